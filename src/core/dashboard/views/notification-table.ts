// The notification table shared by the overview (recoveries in progress, last failures) and the host page (its recent
// notifications): one row a notification, linked to its recovery page. The pages differ only in which columns they
// can fill, so the columns are options here rather than three copies of the same markup.

import { html } from 'hono/html';
import { recoveryProgress } from '../data.ts';
import type { NotificationJson } from '../wire.ts';
import { BASE, statusBadge, time, wrapTable, type Html } from './parts.ts';

export interface NotificationColumns {
  /** Adds a Host column, the source host named through this lookup (left out where the page is about that host). */
  hostName?: (uuid: string) => string;
  /** Adds a Progress column (recoveries in progress). */
  progress?: boolean;
  /** Heading of the generated_time column. */
  timeHeading: 'Generated' | 'Since';
}

export function progressCell(n: NotificationJson): Html {
  const p = recoveryProgress(n);
  const pct = Math.round(p.fraction * 100);
  return html`<progress max="100" value="${pct}" aria-label="Recovery progress">${pct}%</progress>
    <span>${pct}%${p.total ? ` · ${p.done}/${p.total} tasks done` : ''}${p.current ? ` · now: ${p.current}` : ''}</span>`;
}

export function notificationTable(list: NotificationJson[], c: NotificationColumns): Html {
  const { hostName, progress } = c;
  return wrapTable(
    html`<table>
      <thead>
        <tr>
          <th scope="col">Notification</th>
          <th scope="col">Type</th>
          ${hostName ? html`<th scope="col">Host</th>` : ''}
          <th scope="col">Status</th>
          ${progress ? html`<th scope="col">Progress</th>` : ''}
          <th scope="col">${c.timeHeading}</th>
        </tr>
      </thead>
      <tbody>
        ${list.map(
          (n) =>
            html`<tr>
              <th scope="row"><a href="${BASE}/recoveries/${n.notification_uuid}">${n.notification_uuid.slice(0, 8)}</a></th>
              <td>${n.type}</td>
              ${hostName ? html`<td>${hostName(n.source_host_uuid)}</td>` : ''}
              <td>${statusBadge(n.status)}</td>
              ${progress ? html`<td>${progressCell(n)}</td>` : ''}
              <td>${time(n.generated_time)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`,
  );
}
