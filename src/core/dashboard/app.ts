// The web dashboard, served by the controller at /dashboard on the API listener (mounted by ../api/app.ts).
// Server-rendered pages (hono's html template, which escapes), one stylesheet and one small script, all bundled
// into the executable as strings. Every read and every change goes through the API app in process with the
// viewer's token (api-client.ts): the API's policy and validation apply unchanged, and its messages are the ones
// the forms show. Sessions and CSRF: session.ts. Live updates: assets/client.ts and GET /dashboard/events.

import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import type { CallerContext } from '../api/context.ts';
import type { PolicyEnforcer } from '../api/middleware/policy.ts';
import type { Env } from '../env.ts';
import type { Logger } from '../log.ts';
import { LoginError, type PasswordLogin, type TokenValidator } from '../ports/identity.ts';
import { DashboardApi, type ApiFetch } from './api-client.ts';
import { CLIENT_JS } from './assets/client.ts';
import { STYLE_CSS } from './assets/style.ts';
import { PageFailure } from './data.ts';
import { CSRF_FIELD, clearSession, csrfToken, csrfValid, isHttps, renewCsrf, setSession, viewerOf, type Viewer } from './session.ts';
import { hostPage } from './views/host.ts';
import { loginPage } from './views/login.ts';
import { hostEditPage, managePage, segmentPage } from './views/manage.ts';
import { overviewPage } from './views/overview.ts';
import type { Page, ViewCtx } from './views/page.ts';
import { BASE, layout, type Html } from './views/parts.ts';
import { recoveryPage } from './views/recovery.ts';

export interface DashboardDeps {
  /** The API app's fetch (in process). */
  api: ApiFetch;
  strategy: 'noauth2' | 'keystone';
  policy: PolicyEnforcer;
  validator?: TokenValidator | undefined;
  /** Keystone password login (keystone only; without it the login form says logins are not possible). */
  login?: PasswordLogin | undefined;
  log: Logger;
  env: Env;
  /** api.enable_proxy_headers_parsing: believe X-Forwarded-Proto for the Secure cookie flag. */
  trustProxy: boolean;
}

type DashEnv = { Variables: { viewer: Viewer; csrf: string } };
type Ctx = Context<DashEnv>;

const MAX_FORM_BYTES = 64 * 1024;

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** Messages after a successful action (?done=KEY): a fixed list, so nothing from the URL is echoed. */
const DONE: Record<string, string> = {
  'segment-created': 'Segment created.',
  'segment-updated': 'Segment saved.',
  'segment-deleted': 'Segment deleted.',
  'host-created': 'Host added.',
  'host-updated': 'Host saved.',
  'host-deleted': 'Host deleted.',
};

export function dashboardApp(deps: DashboardDeps): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  const log = deps.log.child({ component: 'dashboard' });
  const https = (c: Ctx) => isHttps(c, deps.trustProxy);
  app.onError((err, c) => {
    log.error({ err, path: c.req.path }, 'dashboard error');
    return c.text('The dashboard failed to answer this request; the controller log has the details.', 500);
  });

  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!c.res.headers.has(k)) c.res.headers.set(k, v);
  });

  app.get('/static/style.css', (c) => c.body(STYLE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'max-age=300' }));
  app.get('/static/app.js', (c) => c.body(CLIENT_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'max-age=300' }));

  // ---- login / logout (keystone) -------------------------------------------------------------------------------
  app.get('/login', (c) => {
    if (deps.strategy === 'noauth2') return c.redirect(`${BASE}/`, 303);
    return c.html(loginPage(csrfToken(c, https(c)), {}, null));
  });

  app.post('/login', async (c) => {
    if (deps.strategy === 'noauth2') return c.redirect(`${BASE}/`, 303);
    const form = await formOf(c);
    if (!form) return c.text('Request is too large.', 413);
    if (!csrfValid(c, form[CSRF_FIELD])) return csrfRefused(c);
    const values = { user: form.user ?? '', project: form.project ?? '', domain: form.domain || 'Default' };
    if (!deps.login)
      return c.html(loginPage(csrfToken(c, https(c)), values, 'Logins are not possible: this controller has no Keystone login configured.'), 503);
    try {
      const issued = await deps.login.login({ ...values, password: form.password ?? '' });
      setSession(c, issued.token, issued.expiresAt, https(c), deps.env.nowMs());
      renewCsrf(c, https(c)); // a CSRF value planted before the login is worthless after it
      log.info({ user: values.user, project: values.project, domain: values.domain }, 'dashboard login');
      return c.redirect(`${BASE}/`, 303);
    } catch (e) {
      const refused = e instanceof LoginError && e.kind === 'refused';
      log.info({ user: values.user, project: values.project, domain: values.domain, reason: refused ? 'refused' : 'unavailable' }, 'dashboard login failed');
      const message = refused
        ? 'Login failed: Keystone did not accept this user, password, project and domain.'
        : 'Keystone is not reachable right now: try again shortly.';
      return c.html(loginPage(csrfToken(c, https(c)), values, message), refused ? 401 : 503);
    }
  });

  app.post('/logout', async (c) => {
    const form = await formOf(c);
    if (!form || !csrfValid(c, form[CSRF_FIELD])) return csrfRefused(c);
    clearSession(c, https(c));
    renewCsrf(c, https(c));
    return c.redirect(deps.strategy === 'keystone' ? `${BASE}/login` : `${BASE}/`, 303);
  });

  // ---- everything else needs a viewer --------------------------------------------------------------------------
  app.use('*', async (c: Ctx, next) => {
    const v = await viewerOf(c, deps.strategy, deps.policy, deps.validator);
    const wantsPage = c.req.method === 'GET' && !c.req.query('fragment') && !c.req.path.endsWith('/events');
    if (v.kind === 'login') {
      if (c.req.method === 'GET' && !wantsPage) return c.text('Not logged in.', 401);
      clearSession(c, https(c));
      return c.redirect(`${BASE}/login`, 303);
    }
    if (v.kind === 'unavailable') return c.text(v.message, 503);
    c.set('viewer', v.viewer);
    c.set('csrf', csrfToken(c, https(c)));
    await next();
  });

  const apiOf = (c: Ctx) => new DashboardApi(deps.api, c.get('viewer').token);
  const ctxOf = (c: Ctx, form?: ViewCtx['form']): ViewCtx => {
    const caller: CallerContext = c.get('viewer').caller;
    return { can: (rule) => deps.policy.allows(rule, caller), csrf: c.get('csrf'), form };
  };

  async function render<D>(c: Ctx, page: Page<D>, params: Record<string, string>, opts: { status?: number; flash?: string; form?: ViewCtx['form'] } = {}) {
    const ctx = ctxOf(c, opts.form);
    let data: D;
    try {
      data = await page.load(apiOf(c), params);
    } catch (e) {
      if (!(e instanceof PageFailure)) throw e;
      if (c.req.query('fragment')) return c.text(e.message, e.status as 404);
      return errorPage(c, e.status, opts.flash ? `${opts.flash} (${e.message})` : e.message);
    }
    const fragment = c.req.query('fragment');
    if (fragment) {
      const f = page.fragments[fragment];
      if (!f) return c.text('No such fragment.', 404);
      return c.html(f(data, ctx));
    }
    const done = c.req.query('done');
    const flash = opts.flash ? { kind: 'alert' as const, text: opts.flash } : done && DONE[done] ? { kind: 'done' as const, text: DONE[done] } : undefined;
    const body = page.body(data, ctx, (id) => page.fragments[id]!(data, ctx));
    return c.html(frame(c, page.title(data), page.nav, page.live, body, flash), (opts.status ?? 200) as 200);
  }

  function frame(c: Ctx, title: string, nav: Page<unknown>['nav'], live: boolean, body: Html, flash?: { kind: 'done' | 'alert'; text: string }): Html {
    return layout({ title, nav, viewer: c.get('viewer'), csrf: c.get('csrf'), loginEnabled: deps.strategy === 'keystone', live, flash }, body);
  }

  function errorPage(c: Ctx, status: number, message: string): Response | Promise<Response> {
    return c.html(
      frame(c, status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Error', null, false, html`<p><a href="${BASE}/">Back to the overview</a></p>`, {
        kind: 'alert',
        text: message,
      }),
      status as 400,
    );
  }

  function csrfRefused(c: Ctx): Response | Promise<Response> {
    log.warn({ path: c.req.path }, 'dashboard form refused: CSRF token missing or wrong');
    return c.text('Forbidden: the form is stale or did not come from this dashboard (CSRF token missing or wrong). Reload the page and try again.', 403);
  }

  // ---- pages ---------------------------------------------------------------------------------------------------
  app.get('/', (c) => render(c, overviewPage, {}));
  app.get('/manage', (c) => render(c, managePage, {}));
  app.get('/recoveries/:id', (c) => render(c, recoveryPage, { id: c.req.param('id') }));
  app.get('/hosts/:id', (c) => render(c, hostPage, { id: c.req.param('id') }));
  app.get('/segments/:id', (c) => render(c, segmentPage, { id: c.req.param('id') }));
  app.get('/segments/:sid/hosts/:hid/edit', (c) => render(c, hostEditPage, { sid: c.req.param('sid'), hid: c.req.param('hid') }));

  // ---- live updates: the API's event stream, with the session's token -------------------------------------------
  app.get('/events', async (c) => {
    const lastId = c.req.header('last-event-id');
    const res = await apiOf(c).raw('GET', '/v1/x-masakari/events', {
      headers: { Accept: 'text/event-stream', ...(lastId ? { 'Last-Event-ID': lastId } : {}) },
      signal: c.req.raw.signal,
    });
    if (res.status !== 200 || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      // 204 tells EventSource to stop: this controller has no event stream (the page says so).
      return c.body(null, 204);
    }
    return new Response(res.body, {
      status: 200,
      headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' },
    });
  });

  // ---- actions -------------------------------------------------------------------------------------------------
  interface Action {
    method: 'POST' | 'PUT' | 'DELETE';
    path: string;
    body?: unknown;
    done: string;
    doneKey: string;
    /** Shows a refusal: the page the form was on, with the API's message and the form's values. */
    back: Back;
  }
  type Back = (c: Ctx, refusal: { status: number; message: string; values: Record<string, string> }) => Promise<Response>;
  const backTo =
    <D>(page: Page<D>, params: Record<string, string>, form?: string): Back =>
    (c, r) =>
      render(c, page, params, { status: r.status, flash: r.message, ...(form ? { form: { id: form, values: r.values } } : {}) });

  async function act(c: Ctx, build: (form: Record<string, string>) => Action) {
    const form = await formOf(c);
    if (!form) return c.text('Request is too large.', 413);
    if (!csrfValid(c, form[CSRF_FIELD])) return csrfRefused(c);
    const a = build(form);
    const r = await apiOf(c).call(a.method, a.path, a.body);
    if (r.ok) return c.redirect(`${a.done}?done=${a.doneKey}`, 303);
    const values = Object.fromEntries(Object.entries(form).filter(([k]) => k !== CSRF_FIELD));
    return a.back(c, { status: r.status, message: r.message, values });
  }

  const sid = (c: Ctx) => c.req.param('sid') ?? '';
  const hid = (c: Ctx) => c.req.param('hid') ?? '';
  const segPath = (id: string) => `/v1/segments/${encodeURIComponent(id)}`;
  const backToSegment = (id: string, form?: string) => backTo(segmentPage, { id }, form);

  app.post('/segments', (c) =>
    act(c, (f) => ({
      method: 'POST',
      path: '/v1/segments',
      body: { segment: segmentFields(f, true) },
      done: `${BASE}/manage`,
      doneKey: 'segment-created',
      back: backTo(managePage, {}, 'segment-create'),
    })),
  );
  app.post('/segments/:sid', (c) =>
    act(c, (f) => ({
      method: 'PUT',
      path: segPath(sid(c)),
      body: { segment: segmentFields(f, false) },
      done: `${BASE}/segments/${sid(c)}`,
      doneKey: 'segment-updated',
      back: backToSegment(sid(c), 'name' in f ? 'segment-update' : undefined),
    })),
  );
  app.post('/segments/:sid/delete', (c) =>
    act(c, () => ({ method: 'DELETE', path: segPath(sid(c)), done: `${BASE}/manage`, doneKey: 'segment-deleted', back: backToSegment(sid(c)) })),
  );
  app.post('/segments/:sid/hosts', (c) =>
    act(c, (f) => ({
      method: 'POST',
      path: `${segPath(sid(c))}/hosts`,
      body: { host: hostFields(f, true) },
      done: `${BASE}/segments/${sid(c)}`,
      doneKey: 'host-created',
      back: backToSegment(sid(c), 'host-create'),
    })),
  );
  app.post('/segments/:sid/hosts/:hid', (c) =>
    act(c, (f) => ({
      method: 'PUT',
      path: `${segPath(sid(c))}/hosts/${encodeURIComponent(hid(c))}`,
      body: { host: hostFields(f, false) },
      done: `${BASE}/segments/${sid(c)}`,
      doneKey: 'host-updated',
      back: f._form === 'edit' ? backTo(hostEditPage, { sid: sid(c), hid: hid(c) }, 'host-update') : backToSegment(sid(c)),
    })),
  );
  app.post('/segments/:sid/hosts/:hid/delete', (c) =>
    act(c, () => ({
      method: 'DELETE',
      path: `${segPath(sid(c))}/hosts/${encodeURIComponent(hid(c))}`,
      done: `${BASE}/segments/${sid(c)}`,
      doneKey: 'host-deleted',
      back: backToSegment(sid(c)),
    })),
  );

  return app;
}

/** The form body as plain strings (last value wins), or null when it is over the limit (declared or read). */
async function formOf(c: Context): Promise<Record<string, string> | null> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > MAX_FORM_BYTES) return null;
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // The forms are url-encoded (no file fields); anything else carries no form fields, so the CSRF check fails.
  if (type !== 'application/x-www-form-urlencoded' || !c.req.raw.body) return {};
  // Read with a cap: a chunked body has no declared length.
  const reader = (c.req.raw.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_FORM_BYTES) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

const bool = (v: string | undefined) => v === 'true' || v === 'on';

/** Form fields -> the API's segment body. Create sends what the form has; update only what it holds. */
function segmentFields(f: Record<string, string>, create: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['name', 'recovery_method', 'service_type'] as const) if (k in f) out[k] = f[k];
  if ('description' in f) out.description = f.description === '' ? null : f.description;
  if (create) out.enabled = bool(f.enabled);
  else if ('enabled' in f) out.enabled = bool(f.enabled);
  return out;
}

function hostFields(f: Record<string, string>, create: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['name', 'type', 'control_attributes'] as const) if (k in f) out[k] = f[k];
  for (const k of ['reserved', 'on_maintenance'] as const) {
    if (create) out[k] = bool(f[k]);
    else if (k in f) out[k] = bool(f[k]);
  }
  return out;
}
