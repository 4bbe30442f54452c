// Recovery: one notification. Its tasks as a timeline with durations (the API's recovery_workflow_details), each
// instance's state (VM moves for a host failure; the one VM of an instance failure), the fencing evidence (what
// the fence task recorded) and the final result.

import { html } from 'hono/html';
import type { ApiResult, DashboardApi } from '../api-client.ts';
import { inventory, need, notificationDetail, vmoves, type Inventory } from '../data.ts';
import type { NotificationJson, TaskJson, VMoveJson } from '../wire.ts';
import { progressCell } from './notification-table.ts';
import type { Page } from './page.ts';
import { BASE, duration, liveSection, note, parseApiTime, statusBadge, time, wrapTable, type Html } from './parts.ts';

interface RecoveryData {
  n: NotificationJson;
  moves: ApiResult<{ vmoves: VMoveJson[] }> | null;
  inv: Inventory | null;
}

/** VM move status in the words an operator uses. */
const INSTANCE_STATE: Record<string, string> = { pending: 'queued', ongoing: 'evacuating', succeeded: 'confirmed', failed: 'failed', ignored: 'ignored' };
/** The one VM of an instance-failure notification, by notification status. */
const VM_STATE: Record<string, string> = { new: 'queued', running: 'restarting', error: 'failed', failed: 'failed', finished: 'confirmed', ignored: 'ignored' };

const FINAL = new Set(['finished', 'failed', 'ignored']);

function taskSpan(t: TaskJson): { start: Date | null; end: Date | null } {
  const times = t.progress_details.map((d) => parseApiTime(d.timestamp)).filter((d): d is Date => d !== null);
  const start = times[0] ?? null;
  const end = t.state === 'RUNNING' || t.state === 'PENDING' ? null : (times.at(-1) ?? null);
  return { start, end };
}

function summary(d: RecoveryData): Html {
  const n = d.n;
  const host = d.inv?.hostByUuid.get(n.source_host_uuid);
  const final = FINAL.has(n.status);
  const last = (n.recovery_workflow_details ?? []).flatMap((t) => t.progress_details).at(-1);
  return html`<dl class="facts">
    <dt>Status</dt>
    <dd data-status="${n.status}">${statusBadge(n.status)}</dd>
    <dt>Type</dt>
    <dd>${n.type}</dd>
    <dt>Host</dt>
    <dd>${host ? html`<a href="${BASE}/hosts/${host.uuid}">${host.name}</a>` : html`<code>${n.source_host_uuid}</code>`}</dd>
    <dt>Generated</dt>
    <dd>${time(n.generated_time)}</dd>
    <dt>Progress</dt>
    <dd>${progressCell(n)}</dd>
    <dt>Result</dt>
    <dd>${final ? html`${n.status}${last ? html`: ${last.message}` : ''}` : 'not final yet'}</dd>
    <dt>Payload</dt>
    <dd><code>${JSON.stringify(n.payload)}</code></dd>
  </dl>`;
}

function timeline(d: RecoveryData): Html {
  const tasks = d.n.recovery_workflow_details ?? [];
  if (tasks.length === 0) return html`<p>No task has started yet.</p>`;
  return html`<ol class="timeline">
    ${tasks.map((t) => {
      const span = taskSpan(t);
      const ms = span.start && span.end ? span.end.getTime() - span.start.getTime() : null;
      return html`<li class="state-${t.state}">
        <strong>${t.name}</strong> ${statusBadge(t.state)} <span>${Math.round(Number(t.progress) * 100)}%</span>
        <span class="muted"> · started ${span.start ? time(span.start.toISOString()) : '—'} · took ${span.end ? duration(ms) : 'running'}</span>
        ${
          t.progress_details.length
            ? html`<ul>
                ${t.progress_details.map((p) => html`<li>${time(p.timestamp)}: ${p.message}</li>`)}
              </ul>`
            : ''
        }
      </li>`;
    })}
  </ol>`;
}

function instances(d: RecoveryData): Html {
  const n = d.n;
  if (n.type === 'VM') {
    const id = typeof n.payload.instance_uuid === 'string' ? n.payload.instance_uuid : 'unknown';
    const state = VM_STATE[n.status] ?? n.status;
    return wrapTable(
      html`<table>
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">Event</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row"><code>${id}</code></th>
            <td>${typeof n.payload.event === 'string' ? n.payload.event : ''}</td>
            <td data-instance-state="${state}">${statusBadge(state)}</td>
          </tr>
        </tbody>
      </table>`,
    );
  }
  if (!d.moves) return html`<p>A ${n.type} notification moves no instance.</p>`;
  if (!d.moves.ok) return note(d.moves.message);
  const list = d.moves.body.vmoves;
  if (list.length === 0) return html`<p>No instance to move (yet).</p>`;
  return wrapTable(
    html`<table>
      <thead>
        <tr>
          <th scope="col">Instance</th>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col">State</th>
          <th scope="col">Duration</th>
          <th scope="col">Message</th>
        </tr>
      </thead>
      <tbody>
        ${list.map((v) => {
          const state = INSTANCE_STATE[v.status] ?? v.status;
          const s = parseApiTime(v.start_time);
          const e = parseApiTime(v.end_time);
          return html`<tr>
            <th scope="row">${v.instance_name ?? ''} <code>${v.instance_uuid}</code></th>
            <td>${v.source_host}</td>
            <td>${v.dest_host ?? '—'}</td>
            <td data-instance-state="${state}">${statusBadge(state)}</td>
            <td>${s && e ? duration(e.getTime() - s.getTime()) : '—'}</td>
            <td>${v.message ?? ''}</td>
          </tr>`;
        })}
      </tbody>
    </table>`,
  );
}

function fencing(d: RecoveryData): Html {
  const tasks = (d.n.recovery_workflow_details ?? []).filter((t) => /fence/i.test(t.name));
  if (d.n.type !== 'COMPUTE_HOST') return html`<p>Only a host failure fences the host.</p>`;
  if (tasks.length === 0) return html`<p>The fence step has not run yet.</p>`;
  return html`<ul>
    ${tasks.flatMap((t) => t.progress_details.map((p) => html`<li>${time(p.timestamp)} (${t.name}, ${t.state}): ${p.message}</li>`))}
  </ul>`;
}

export const recoveryPage: Page<RecoveryData> = {
  nav: null,
  live: true,
  title: (d) => `Recovery ${d.n.notification_uuid}`,
  async load(api: DashboardApi, params) {
    const n = need(await notificationDetail(api, params.id!)).notification;
    const [moves, inv] = await Promise.all([
      n.type === 'COMPUTE_HOST' ? vmoves(api, n.notification_uuid) : Promise.resolve(null),
      inventory(api).catch(() => null),
    ]);
    return { n, moves, inv };
  },
  fragments: {
    'rc-summary': (d) => liveSection('rc-summary', 'notification. recovery.', d.n.notification_uuid, 'Summary', summary(d)),
    'rc-tasks': (d) => liveSection('rc-tasks', 'notification. recovery.', d.n.notification_uuid, 'Tasks', timeline(d)),
    'rc-instances': (d) => liveSection('rc-instances', 'notification. recovery.', d.n.notification_uuid, 'Instances', instances(d)),
    'rc-fencing': (d) => liveSection('rc-fencing', 'notification. recovery.', d.n.notification_uuid, 'Fencing evidence', fencing(d)),
  },
  body: (_d, _ctx, f) => html`${f('rc-summary')}${f('rc-instances')}${f('rc-tasks')}${f('rc-fencing')}`,
};
