// Overview: segments (recovery method, N+1), hosts (protected or not, and why), recoveries in progress with their
// progress, and the last failures.

import { html } from 'hono/html';
import type { ApiResult, DashboardApi, Optional } from '../api-client.ts';
import { FAILED, IN_PROGRESS, inventory, notificationDetail, protection, recentNotifications, type Inventory } from '../data.ts';
import type { HostJson, NotificationJson, ProtectionHost, ProtectionReport } from '../wire.ts';
import { notificationTable } from './notification-table.ts';
import type { Page } from './page.ts';
import { BASE, badge, liveSection, note, wrapTable, type Html } from './parts.ts';

interface OverviewData {
  inv: Inventory;
  protection: Optional<ProtectionReport>;
  notifications: ApiResult<{ notifications: NotificationJson[] }>;
  running: NotificationJson[];
}

export const NO_PROTECTION = 'Protection report not available on this controller: protected / unprotected states and N+1 are not shown.';

export function protectionNote(p: Optional<ProtectionReport>): Html | null {
  if (!p.available) return note(NO_PROTECTION);
  if (!p.result.ok) return note(`Protection report: ${p.result.message}`);
  return null;
}

/** The report, when the controller has one and answered. */
export const reportOf = (p: Optional<ProtectionReport>): ProtectionReport | null => (p.available && p.result.ok ? p.result.body : null);

/** A host's entry in the report, matched by uuid or by name (as both pages have always matched it). */
export const hostInReport = (report: ProtectionReport | null, h: HostJson): ProtectionHost | undefined =>
  report?.hosts.find((x) => x.uuid === h.uuid || x.name === h.name);

const hostName = (inv: Inventory, uuid: string) => inv.hostByUuid.get(uuid)?.name ?? uuid;

function nPlusOne(p: Optional<ProtectionReport>, segment: string): Html {
  if (!p.available || !p.result.ok) return html`<span class="muted">unknown</span>`;
  const s = p.result.body.segments.find((x) => x.uuid === segment);
  if (!s || s.n_plus_one === null) return html`<span class="muted">not applicable</span>`;
  if (s.n_plus_one) return badge('N+1 holds', 'ok');
  return html`${badge('N+1 broken', 'bad')}${s.breaking_hosts.length ? html` <span>losing ${s.breaking_hosts.join(', ')} leaves VMs without room</span>` : ''}`;
}

function segmentsTable(d: OverviewData): Html {
  if (d.inv.segments.length === 0) return note('No segments yet. Create one under "Segments and hosts".');
  return wrapTable(
    html`<table>
      <caption class="sr-only">
        Failover segments
      </caption>
      <thead>
        <tr>
          <th scope="col">Segment</th>
          <th scope="col">Recovery method</th>
          <th scope="col">Enabled</th>
          <th scope="col">Hosts</th>
          <th scope="col">N+1</th>
        </tr>
      </thead>
      <tbody>
        ${d.inv.segments.map((s) => {
          const hosts = d.inv.hostsBySegment.get(s.uuid);
          return html`<tr>
            <th scope="row"><a href="${BASE}/segments/${s.uuid}">${s.name}</a></th>
            <td>${s.recovery_method}</td>
            <td>${s.enabled ? badge('enabled', 'ok') : badge('disabled', 'warn')}</td>
            <td>${hosts?.ok ? hosts.body.hosts.length : '—'}</td>
            <td>${nPlusOne(d.protection, s.uuid)}</td>
          </tr>`;
        })}
      </tbody>
    </table>`,
  );
}

function hostsTable(d: OverviewData): Html {
  const report = reportOf(d.protection);
  const rows = d.inv.segments.flatMap((s) => {
    const hosts = d.inv.hostsBySegment.get(s.uuid);
    if (!hosts?.ok)
      return [
        html`<tr>
          <td colspan="5">${s.name}: ${hosts?.ok === false ? hosts.message : 'hosts not readable'}</td>
        </tr>`,
      ];
    return hosts.body.hosts.map((h) => {
      const p = hostInReport(report, h);
      const state = !report
        ? html`<span class="muted">unknown</span>`
        : !p
          ? html`<span class="muted">not in report</span>`
          : p.protected
            ? badge('protected', 'ok')
            : badge('unprotected', 'bad');
      const why = p ? [...p.reasons, ...p.warnings.map((w) => `warning: ${w}`)] : [];
      const flags = [h.on_maintenance ? badge('maintenance', 'warn') : '', h.reserved ? badge('reserved', 'muted') : ''];
      return html`<tr>
        <th scope="row"><a href="${BASE}/hosts/${h.uuid}">${h.name}</a></th>
        <td>${s.name}</td>
        <td>${state}</td>
        <td>
          ${
            why.length
              ? html`<ul>
                  ${why.map((r) => html`<li>${r}</li>`)}
                </ul>`
              : html`<span class="muted">—</span>`
          }
        </td>
        <td class="actions">${flags}</td>
      </tr>`;
    });
  });
  if (rows.length === 0) return note('No hosts yet.');
  return html`${protectionNote(d.protection)}${wrapTable(
    html`<table>
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Segment</th>
          <th scope="col">State</th>
          <th scope="col">Reasons</th>
          <th scope="col">Flags</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>`,
  )}`;
}

function recoveries(d: OverviewData): Html {
  if (!d.notifications.ok) return note(d.notifications.message);
  if (d.running.length === 0) return html`<p>No recovery in progress.</p>`;
  return notificationTable(d.running, { hostName: (uuid) => hostName(d.inv, uuid), progress: true, timeHeading: 'Since' });
}

function failures(d: OverviewData): Html {
  if (!d.notifications.ok) return note(d.notifications.message);
  const failed = d.notifications.body.notifications.filter((n) => FAILED.has(n.status)).slice(0, 10);
  if (failed.length === 0) return html`<p>No failed recovery among the last 50 notifications.</p>`;
  return notificationTable(failed, { hostName: (uuid) => hostName(d.inv, uuid), timeHeading: 'Generated' });
}

export const overviewPage: Page<OverviewData> = {
  nav: 'overview',
  live: true,
  title: () => 'Overview',
  async load(api: DashboardApi) {
    const [inv, prot, notifications] = await Promise.all([inventory(api), protection(api), recentNotifications(api)]);
    const inProgress = notifications.ok ? notifications.body.notifications.filter((n) => IN_PROGRESS.has(n.status)).slice(0, 20) : [];
    const details = await Promise.all(inProgress.map((n) => notificationDetail(api, n.notification_uuid)));
    const running = inProgress.map((n, i) => {
      const r = details[i]!;
      return r.ok ? r.body.notification : n;
    });
    return { inv, protection: prot, notifications, running };
  },
  fragments: {
    'ov-segments': (d) => liveSection('ov-segments', 'segment. host. protection.', null, 'Segments', segmentsTable(d)),
    'ov-hosts': (d) => liveSection('ov-hosts', 'host. segment. protection.', null, 'Hosts', hostsTable(d)),
    'ov-recoveries': (d) => liveSection('ov-recoveries', 'notification. recovery.', null, 'Recoveries in progress', recoveries(d)),
    'ov-failures': (d) => liveSection('ov-failures', 'notification.', null, 'Last failures', failures(d)),
  },
  body: (_d, _ctx, f) => html`${f('ov-recoveries')}${f('ov-segments')}${f('ov-hosts')}${f('ov-failures')}`,
};
