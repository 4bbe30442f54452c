// Segments and hosts management: create, edit, enable/disable, maintenance on/off, reserved, delete. Every form
// posts to the dashboard, which sends the API request in process; what the API refuses comes back with the API's
// own message (and status). Buttons show only when the API's policy allows the action for this viewer. No
// `required` attributes: the API, not the browser, decides what is valid, so the messages are the API's.

import { html } from 'hono/html';
import { RECOVERY_METHODS } from '../../domain/model.ts';
import type { ApiResult, DashboardApi } from '../api-client.ts';
import { inventory, need, type Inventory } from '../data.ts';
import type { HostJson, SegmentJson } from '../wire.ts';
import { RULES, type Page, type ViewCtx } from './page.ts';
import { BASE, badge, csrfInput, liveSection, note, wrapTable, type Html } from './parts.ts';

const value = (ctx: ViewCtx, form: string, field: string, fallback = '') => (ctx.form?.id === form ? (ctx.form.values[field] ?? '') : fallback);
const checked = (ctx: ViewCtx, form: string, field: string, fallback: boolean) =>
  (ctx.form?.id === form ? ctx.form.values[field] === 'true' : fallback) ? html` checked` : '';

function methodSelect(id: string, selected: string): Html {
  return html`<select id="${id}" name="recovery_method">
    ${RECOVERY_METHODS.map((m) => html`<option value="${m}" ${m === selected ? html` selected` : ''}>${m}</option>`)}
  </select>`;
}

/** A one-button form (toggle, delete). */
function button(
  ctx: ViewCtx,
  action: string,
  label: string,
  fields: Record<string, string>,
  opts: { danger?: boolean; confirm?: string; name?: string } = {},
): Html {
  return html`<form class="inline" method="post" action="${action}">
    ${csrfInput(ctx.csrf)}${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`)}<button
      type="submit"
      class="${opts.danger ? 'danger' : 'secondary'}"
      ${opts.confirm ? html` data-confirm="${opts.confirm}"` : ''}${opts.name ? html` aria-label="${opts.name}"` : ''}
    >
      ${label}
    </button>
  </form>`;
}

// ---- /dashboard/manage ------------------------------------------------------------------------------------------

interface ManageData {
  inv: Inventory;
}

function segmentsTable(d: ManageData): Html {
  if (d.inv.segments.length === 0) return html`<p>No segments yet.</p>`;
  return wrapTable(
    html`<table>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Recovery method</th>
          <th scope="col">Service type</th>
          <th scope="col">Enabled</th>
          <th scope="col">Hosts</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      <tbody>
        ${d.inv.segments.map((s) => {
          const hosts = d.inv.hostsBySegment.get(s.uuid);
          return html`<tr>
            <th scope="row"><a href="${BASE}/segments/${s.uuid}">${s.name}</a></th>
            <td>${s.recovery_method}</td>
            <td>${s.service_type}</td>
            <td>${s.enabled ? badge('enabled', 'ok') : badge('disabled', 'warn')}</td>
            <td>${hosts?.ok ? hosts.body.hosts.length : '—'}</td>
            <td>${s.description ?? ''}</td>
          </tr>`;
        })}
      </tbody>
    </table>`,
  );
}

function createSegmentForm(ctx: ViewCtx): Html {
  if (!ctx.can(RULES.segmentCreate)) return html``;
  const F = 'segment-create';
  return html`<section class="panel" aria-labelledby="sc-h">
    <h2 id="sc-h">Create a segment</h2>
    <form class="grid" method="post" action="${BASE}/segments">
      ${csrfInput(ctx.csrf)}
      <div><label for="sc-name">Name</label><input type="text" id="sc-name" name="name" value="${value(ctx, F, 'name')}" autocomplete="off" /></div>
      <div><label for="sc-method">Recovery method</label>${methodSelect('sc-method', value(ctx, F, 'recovery_method', 'auto'))}</div>
      <div>
        <label for="sc-type">Service type</label><input type="text" id="sc-type" name="service_type" value="${value(ctx, F, 'service_type', 'COMPUTE')}" />
      </div>
      <div><label for="sc-desc">Description</label><input type="text" id="sc-desc" name="description" value="${value(ctx, F, 'description')}" /></div>
      <div>
        <label class="check" for="sc-enabled"
          ><input type="checkbox" id="sc-enabled" name="enabled" value="true" ${checked(ctx, F, 'enabled', true)} /> Enabled</label
        >
      </div>
      <div><button type="submit">Create segment</button></div>
    </form>
  </section>`;
}

export const managePage: Page<ManageData> = {
  nav: 'manage',
  live: true,
  title: () => 'Segments and hosts',
  load: async (api: DashboardApi) => ({ inv: await inventory(api) }),
  fragments: {
    'm-segments': (d) => liveSection('m-segments', 'segment. host.', null, 'Segments', segmentsTable(d)),
  },
  body: (_d, ctx, f) => html`${f('m-segments')}${createSegmentForm(ctx)}`,
};

// ---- /dashboard/segments/:id ------------------------------------------------------------------------------------

interface SegmentData {
  segment: SegmentJson;
  hosts: ApiResult<{ hosts: HostJson[] }>;
}

function hostsTable(d: SegmentData, ctx: ViewCtx): Html {
  if (!d.hosts.ok) return note(d.hosts.message);
  if (d.hosts.body.hosts.length === 0) return html`<p>No hosts in this segment yet.</p>`;
  const base = `${BASE}/segments/${d.segment.uuid}/hosts`;
  const canUpdate = ctx.can(RULES.hostUpdate);
  const canDelete = ctx.can(RULES.hostDelete);
  return wrapTable(
    html`<table>
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Type</th>
          <th scope="col">Control attributes</th>
          <th scope="col">Maintenance</th>
          <th scope="col">Reserved</th>
          ${canUpdate || canDelete ? html`<th scope="col">Actions</th>` : ''}
        </tr>
      </thead>
      <tbody>
        ${d.hosts.body.hosts.map(
          (h) =>
            html`<tr data-host="${h.name}">
              <th scope="row"><a href="${BASE}/hosts/${h.uuid}">${h.name}</a></th>
              <td>${h.type}</td>
              <td>${h.control_attributes}</td>
              <td>${h.on_maintenance ? badge('on maintenance', 'warn') : badge('in service', 'ok')}</td>
              <td>${h.reserved ? badge('reserved', 'muted') : html`<span class="muted">no</span>`}</td>
              ${
                canUpdate || canDelete
                  ? html`<td class="actions">
                      ${
                        canUpdate
                          ? html`${button(ctx, `${base}/${h.uuid}`, h.on_maintenance ? 'End maintenance' : 'Start maintenance', { on_maintenance: String(!h.on_maintenance) }, { name: `${h.on_maintenance ? 'End' : 'Start'} maintenance of ${h.name}` })}
                              ${button(ctx, `${base}/${h.uuid}`, h.reserved ? 'Unreserve' : 'Reserve', { reserved: String(!h.reserved) }, { name: `${h.reserved ? 'Unreserve' : 'Reserve'} ${h.name}` })}
                              <a href="${base}/${h.uuid}/edit" aria-label="Edit ${h.name}">Edit</a>`
                          : ''
                      }${canDelete ? button(ctx, `${base}/${h.uuid}/delete`, 'Delete', {}, { danger: true, confirm: `Delete host ${h.name}?`, name: `Delete ${h.name}` }) : ''}
                    </td>`
                  : ''
              }
            </tr>`,
        )}
      </tbody>
    </table>`,
  );
}

function segmentForms(d: SegmentData, ctx: ViewCtx): Html {
  const s = d.segment;
  const F = 'segment-update';
  const action = `${BASE}/segments/${s.uuid}`;
  const update = ctx.can(RULES.segmentUpdate);
  const del = ctx.can(RULES.segmentDelete);
  return html`<section class="panel" aria-labelledby="sf-h">
    <h2 id="sf-h">Segment</h2>
    <p>
      ${s.enabled ? badge('enabled', 'ok') : badge('disabled', 'warn')} recovery method <strong>${s.recovery_method}</strong>, service type
      ${s.service_type}${s.description ? html` · ${s.description}` : ''}
    </p>
    ${
      update
        ? html`<form class="grid" method="post" action="${action}">
            ${csrfInput(ctx.csrf)}
            <div><label for="su-name">Name</label><input type="text" id="su-name" name="name" value="${value(ctx, F, 'name', s.name)}" /></div>
            <div><label for="su-method">Recovery method</label>${methodSelect('su-method', value(ctx, F, 'recovery_method', s.recovery_method))}</div>
            <div>
              <label for="su-type">Service type</label
              ><input type="text" id="su-type" name="service_type" value="${value(ctx, F, 'service_type', s.service_type)}" />
            </div>
            <div>
              <label for="su-desc">Description</label
              ><input type="text" id="su-desc" name="description" value="${value(ctx, F, 'description', s.description ?? '')}" />
            </div>
            <div><button type="submit">Save segment</button></div>
          </form>`
        : ''
    }
    ${
      update || del
        ? html`<div class="actions spaced">
            ${update ? button(ctx, action, s.enabled ? 'Disable segment' : 'Enable segment', { enabled: String(!s.enabled) }) : ''}
            ${del ? button(ctx, `${action}/delete`, 'Delete segment', {}, { danger: true, confirm: `Delete segment ${s.name} and its hosts?` }) : ''}
          </div>`
        : ''
    }
  </section>`;
}

function createHostForm(d: SegmentData, ctx: ViewCtx): Html {
  if (!ctx.can(RULES.hostCreate)) return html``;
  const F = 'host-create';
  return html`<section class="panel" aria-labelledby="hc-h">
    <h2 id="hc-h">Add a host</h2>
    <form class="grid" method="post" action="${BASE}/segments/${d.segment.uuid}/hosts">
      ${csrfInput(ctx.csrf)}
      <div>
        <label for="hc-name">Name (the compute host's name)</label
        ><input type="text" id="hc-name" name="name" value="${value(ctx, F, 'name')}" autocomplete="off" />
      </div>
      <div><label for="hc-type">Type</label><input type="text" id="hc-type" name="type" value="${value(ctx, F, 'type', 'COMPUTE')}" /></div>
      <div>
        <label for="hc-ctl">Control attributes</label
        ><input type="text" id="hc-ctl" name="control_attributes" value="${value(ctx, F, 'control_attributes', 'SSH')}" />
      </div>
      <div>
        <label class="check" for="hc-reserved"
          ><input type="checkbox" id="hc-reserved" name="reserved" value="true" ${checked(ctx, F, 'reserved', false)} /> Reserved</label
        >
        <label class="check" for="hc-maint"
          ><input type="checkbox" id="hc-maint" name="on_maintenance" value="true" ${checked(ctx, F, 'on_maintenance', false)} /> On maintenance</label
        >
      </div>
      <div><button type="submit">Add host</button></div>
    </form>
  </section>`;
}

export const segmentPage: Page<SegmentData> = {
  nav: 'manage',
  live: true,
  title: (d) => `Segment ${d.segment.name}`,
  async load(api: DashboardApi, params) {
    const id = encodeURIComponent(params.id!);
    const segment = need(await api.get<{ segment: SegmentJson }>(`/v1/segments/${id}`)).segment;
    const hosts = await api.get<{ hosts: HostJson[] }>(`/v1/segments/${id}/hosts?sort_key=name&sort_dir=asc`);
    return { segment, hosts };
  },
  fragments: {
    's-hosts': (d, ctx) => liveSection('s-hosts', 'host. segment.', null, 'Hosts', hostsTable(d, ctx)),
  },
  body: (d, ctx, f) => html`${segmentForms(d, ctx)}${f('s-hosts')}${createHostForm(d, ctx)}`,
};

// ---- /dashboard/segments/:sid/hosts/:hid/edit ---------------------------------------------------------------------

interface HostEditData {
  segment: SegmentJson;
  host: HostJson;
}

export const hostEditPage: Page<HostEditData> = {
  nav: 'manage',
  live: false,
  title: (d) => `Edit host ${d.host.name}`,
  async load(api: DashboardApi, params) {
    const sid = encodeURIComponent(params.sid!);
    const segment = need(await api.get<{ segment: SegmentJson }>(`/v1/segments/${sid}`)).segment;
    const host = need(await api.get<{ host: HostJson }>(`/v1/segments/${sid}/hosts/${encodeURIComponent(params.hid!)}`)).host;
    return { segment, host };
  },
  fragments: {},
  body: (d, ctx) => {
    const F = 'host-update';
    const h = d.host;
    if (!ctx.can(RULES.hostUpdate)) return note('The policy does not allow you to change hosts.');
    return html`<section class="panel" aria-labelledby="hu-h">
      <h2 id="hu-h">Host in segment <a href="${BASE}/segments/${d.segment.uuid}">${d.segment.name}</a></h2>
      <form class="grid" method="post" action="${BASE}/segments/${d.segment.uuid}/hosts/${h.uuid}">
        ${csrfInput(ctx.csrf)}
        <input type="hidden" name="_form" value="edit" />
        <div><label for="hu-name">Name</label><input type="text" id="hu-name" name="name" value="${value(ctx, F, 'name', h.name)}" /></div>
        <div><label for="hu-type">Type</label><input type="text" id="hu-type" name="type" value="${value(ctx, F, 'type', h.type)}" /></div>
        <div>
          <label for="hu-ctl">Control attributes</label
          ><input type="text" id="hu-ctl" name="control_attributes" value="${value(ctx, F, 'control_attributes', h.control_attributes)}" />
        </div>
        <div><button type="submit">Save host</button></div>
      </form>
    </section>`;
  },
};
