// Host: its VMs (from the what-if plan, which lists them with where each would go), agent health and fencer
// readiness (protection report), its recent notifications, and the what-if plan for losing it.

import { html } from 'hono/html';
import type { ApiResult, DashboardApi, Optional } from '../api-client.ts';
import { PageFailure, inventory, protection, recentNotifications, whatIf } from '../data.ts';
import type { HostJson, NotificationJson, ProtectionReport, SegmentJson, WhatIf } from '../wire.ts';
import { notificationTable } from './notification-table.ts';
import { hostInReport, protectionNote, reportOf } from './overview.ts';
import type { Page } from './page.ts';
import { BASE, badge, liveSection, note, time, wrapTable, type Html } from './parts.ts';

interface HostData {
  host: HostJson;
  segment: SegmentJson;
  protection: Optional<ProtectionReport>;
  whatif: Optional<WhatIf>;
  notifications: ApiResult<{ notifications: NotificationJson[] }>;
}

export const NO_WHATIF = 'What-if plan not available on this controller: the VMs of this host and where they would go are not shown.';

const FENCING_TONE: Record<string, 'ok' | 'bad' | 'warn' | 'muted'> = {
  ok: 'ok',
  unreachable: 'bad',
  auth_failed: 'bad',
  unknown_power_state: 'warn',
  not_configured: 'warn',
  disabled: 'muted',
};

function facts(d: HostData): Html {
  const h = d.host;
  const p = hostInReport(reportOf(d.protection), h);
  const agent = p?.agent;
  return html`${protectionNote(d.protection)}
    <dl class="facts">
      <dt>Segment</dt>
      <dd><a href="${BASE}/segments/${d.segment.uuid}">${d.segment.name}</a> (${d.segment.recovery_method})</dd>
      <dt>Type</dt>
      <dd>${h.type}</dd>
      <dt>Control attributes</dt>
      <dd>${h.control_attributes}</dd>
      <dt>Flags</dt>
      <dd>${h.on_maintenance ? badge('maintenance', 'warn') : badge('in service', 'ok')} ${h.reserved ? badge('reserved', 'muted') : ''}</dd>
      ${
        p
          ? html`<dt>Protection</dt>
              <dd>
                ${p.protected ? badge('protected', 'ok') : badge('unprotected', 'bad')}${
                  p.reasons.length
                    ? html`<ul>
                        ${p.reasons.map((r) => html`<li>${r}</li>`)}
                      </ul>`
                    : ''
                }
                ${
                  p.warnings.length
                    ? html`<ul>
                        ${p.warnings.map((w) => html`<li>warning: ${w}</li>`)}
                      </ul>`
                    : ''
                }
              </dd>
              <dt>Agent</dt>
              <dd>
                ${agent ? html`${agent.silent ? badge('silent', 'bad') : badge('reporting', 'ok')} last seen ${time(agent.last_seen)}${agent.version ? ` · version ${agent.version}` : ''}` : html`<span class="muted">no agent has reported</span>`}
              </dd>
              <dt>Fencer</dt>
              <dd>
                ${badge(p.fencing.state.replace(/_/g, ' '), FENCING_TONE[p.fencing.state] ?? 'muted')} checked
                ${time(p.fencing.checked_at)}${p.fencing.detail ? html` · ${p.fencing.detail}` : ''}
              </dd>`
          : ''
      }
    </dl>
    <p><a href="${BASE}/segments/${d.segment.uuid}">Manage this host (maintenance, reserved, edit, delete)</a></p>`;
}

/** A resource figure; "unknown" when the backend does not say. */
const n = (v: number | null) => (v === null ? 'unknown' : String(v));

function plan(d: HostData): Html {
  if (!d.whatif.available) return note(NO_WHATIF);
  if (!d.whatif.result.ok) return note(`What-if plan: ${d.whatif.result.message}`);
  const w = d.whatif.result.body;
  const lost = w.instances.filter((i) => !i.recovered);
  return html`<p>
      If ${w.host} failed now (${w.recovery_method}): ${w.instances.length - lost.length} of ${w.instances.length} VMs would be recovered, in about
      ${Math.round(w.estimated_makespan_seconds)} s.
      ${w.shortfall ? html` ${badge('short of capacity', 'bad')} missing ${n(w.shortfall.vcpus)} vCPUs, ${n(w.shortfall.ram_mb)} MB RAM, ${n(w.shortfall.disk_gb)} GB disk.` : ''}
    </p>
    ${
      w.warnings?.length
        ? html`<ul>
            ${w.warnings.map((x) => html`<li>assumed: ${x}</li>`)}
          </ul>`
        : ''
    }
    ${
      w.instances.length
        ? wrapTable(
            html`<table>
              <caption>
                VMs on this host
              </caption>
              <thead>
                <tr>
                  <th scope="col">VM</th>
                  <th scope="col">Recovered</th>
                  <th scope="col">Target</th>
                  <th scope="col">Candidates</th>
                  <th scope="col">Why not</th>
                </tr>
              </thead>
              <tbody>
                ${w.instances.map(
                  (i) =>
                    html`<tr>
                      <th scope="row">${i.name} <code>${i.id}</code></th>
                      <td>${i.recovered ? badge('yes', 'ok') : badge('no', 'bad')}</td>
                      <td>${i.target ?? '—'}</td>
                      <td>${i.candidates.join(', ')}</td>
                      <td>${i.reason ?? ''}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`,
          )
        : html`<p>No VM runs on this host.</p>`
    }
    ${
      w.capacity.length
        ? wrapTable(
            html`<table>
              <caption>
                Capacity of the other hosts (free before → after)
              </caption>
              <thead>
                <tr>
                  <th scope="col">Host</th>
                  <th scope="col">vCPUs</th>
                  <th scope="col">RAM (MB)</th>
                  <th scope="col">Disk (GB)</th>
                </tr>
              </thead>
              <tbody>
                ${w.capacity.map(
                  (c) =>
                    html`<tr>
                      <th scope="row">${c.host}</th>
                      <td>${n(c.before.vcpus)} → ${n(c.after.vcpus)}</td>
                      <td>${n(c.before.ram_mb)} → ${n(c.after.ram_mb)}</td>
                      <td>${n(c.before.disk_gb)} → ${n(c.after.disk_gb)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`,
          )
        : ''
    }`;
}

function notifications(d: HostData): Html {
  if (!d.notifications.ok) return note(d.notifications.message);
  const list = d.notifications.body.notifications.slice(0, 10);
  if (list.length === 0) return html`<p>No notification about this host.</p>`;
  return notificationTable(list, { timeHeading: 'Generated' });
}

export const hostPage: Page<HostData> = {
  nav: null,
  live: true,
  title: (d) => `Host ${d.host.name}`,
  async load(api: DashboardApi, params) {
    const inv = await inventory(api);
    const host = inv.hostByUuid.get(params.id!);
    if (!host) throw new PageFailure(404, `No host with id ${params.id!}.`);
    const segment = inv.segments.find((s) => s.uuid === host.failover_segment_id)!;
    const [prot, wi, notes] = await Promise.all([
      protection(api),
      whatIf(api, host.name),
      recentNotifications(api, `&source_host_uuid=${encodeURIComponent(host.uuid)}`),
    ]);
    return { host, segment, protection: prot, whatif: wi, notifications: notes };
  },
  fragments: {
    'h-facts': (d) => liveSection('h-facts', 'host. protection.', null, 'Health', facts(d)),
    'h-plan': (d) => liveSection('h-plan', 'host. protection. notification.process.end', null, 'VMs and the what-if plan for losing it', plan(d)),
    'h-notes': (d) => liveSection('h-notes', 'notification.', null, 'Recent notifications', notifications(d)),
  },
  body: (_d, _ctx, f) => html`${f('h-facts')}${f('h-plan')}${f('h-notes')}`,
};
