// The dashboard's session rules over HTTP, without a browser (fast): redirects to the login form, 401 for live
// parts without a session, CSRF on the login form, cookie flags (Secure behind an https proxy), a token Keystone
// does not know, fragments, Keystone unreachable. Keystone here is the loopback stand-in of test/api; the real
// Keystone and a real browser are in dashboard-keystone.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createApiApp, type ApiApp } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { KeystoneTokenValidator } from '../../src/drivers/identity/keystone.ts';
import { KeystonePasswordLogin } from '../../src/drivers/identity/keystone-login.ts';
import { FakeKeystone } from '../api/fake-keystone.ts';

const ORIGIN = 'http://dash.test';
const cookieOf = (res: Response, name: string) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
const valueOf = (setCookie: string | undefined) => setCookie?.split(';')[0]!.split('=').slice(1).join('=') ?? '';

describe('dashboard sessions under keystone (HTTP level)', () => {
  const ks = new FakeKeystone();
  let store: Store;
  let app: ApiApp;

  before(async () => {
    await ks.start();
    store = openSqliteStore({ path: ':memory:' });
    const config = parseConfig(
      {
        api: {
          auth_strategy: 'keystone',
          enable_proxy_headers_parsing: true,
          keystone: { auth_url: `${ks.url}/v3`, password: 'secret', timeout_seconds: 5 },
        },
      },
      'test',
    );
    app = createApiApp({
      store,
      config,
      log: silentLogger,
      hostCatalog: acceptAllHostCatalog,
      tokenValidator: new KeystoneTokenValidator(config.api.keystone, silentLogger),
      dashboard: { login: new KeystonePasswordLogin(config.api.keystone, silentLogger) },
    });
  });
  after(async () => {
    await store?.close();
    await ks.stop().catch(() => undefined);
  });

  const get = (path: string, headers: Record<string, string> = {}) => app.request(`${ORIGIN}${path}`, { headers });
  async function loginForm(headers: Record<string, string> = {}) {
    const res = await get('/dashboard/login', headers);
    assert.equal(res.status, 200);
    const csrf = valueOf(cookieOf(res, 'masakari_csrf'));
    assert.ok((await res.text()).includes(`value="${csrf}"`), 'the form carries the cookie value');
    return csrf;
  }
  const postLogin = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    app.request(`${ORIGIN}/dashboard/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields),
    });

  test('without a session: pages redirect to the login form, live parts answer 401', async () => {
    for (const path of ['/dashboard', '/dashboard/', '/dashboard/manage']) {
      const res = await get(path);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get('location'), '/dashboard/login');
    }
    assert.equal((await get('/dashboard/?fragment=ov-segments')).status, 401);
    assert.equal((await get('/dashboard/events')).status, 401);
    // The API itself is unchanged: no token, keystonemiddleware's 401.
    assert.equal((await get('/v1/segments')).status, 401);
  });

  test('login: CSRF required, wrong password 401, right one sets an HttpOnly SameSite=Strict session cookie', async () => {
    const csrf = await loginForm();
    const noCsrf = await postLogin({ user: 'admin', password: 'adminpw', project: 'p', domain: 'Default' }, { cookie: `masakari_csrf=${csrf}` });
    assert.equal(noCsrf.status, 403);
    const wrong = await postLogin({ _csrf: csrf, user: 'admin', password: 'nope', project: 'p', domain: 'Default' }, { cookie: `masakari_csrf=${csrf}` });
    assert.equal(wrong.status, 401);
    const page = await wrong.text();
    assert.match(page, /Login failed: Keystone did not accept/);
    assert.ok(!page.includes('nope'), 'the password is not echoed');
    assert.equal(cookieOf(wrong, 'masakari_session'), undefined);

    const ok = await postLogin({ _csrf: csrf, user: 'admin', password: 'adminpw', project: 'p', domain: 'Default' }, { cookie: `masakari_csrf=${csrf}` });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/dashboard/');
    const session = cookieOf(ok, 'masakari_session')!;
    assert.match(session, /^masakari_session=[^;]+; Max-Age=\d+; Path=\/dashboard; HttpOnly; SameSite=Strict$/);
    const renewed = valueOf(cookieOf(ok, 'masakari_csrf'));
    assert.ok(renewed && renewed !== csrf, 'the CSRF value is replaced at login');
    assert.ok(ks.tokens.has(valueOf(session)), 'the cookie holds the Keystone token');

    // With the session: the overview, and a fragment alone.
    const cookie = `masakari_session=${valueOf(session)}; masakari_csrf=${renewed}`;
    const overview = await get('/dashboard/', { cookie });
    assert.equal(overview.status, 200);
    assert.match(await overview.text(), /Signed in as u-admin/);
    const fragment = await get('/dashboard/?fragment=ov-segments', { cookie });
    assert.equal(fragment.status, 200);
    const html = (await fragment.text()).trim();
    assert.match(html, /^<section class="panel" id="ov-segments"/);
    assert.ok(!html.includes('<html'), 'only the fragment');
    assert.equal((await get('/dashboard/?fragment=nope', { cookie })).status, 404);
  });

  test('behind an https proxy the cookies are Secure', async () => {
    const csrf = await loginForm({ 'x-forwarded-proto': 'https' });
    const ok = await postLogin(
      { _csrf: csrf, user: 'admin', password: 'adminpw', project: 'p', domain: 'Default' },
      { cookie: `masakari_csrf=${csrf}`, 'x-forwarded-proto': 'https' },
    );
    assert.equal(ok.status, 303);
    assert.match(cookieOf(ok, 'masakari_session')!, /; Secure/);
    assert.match(cookieOf(ok, 'masakari_csrf')!, /; Secure/);
  });

  test('a token Keystone does not know: back to the login form, and the cookie is cleared', async () => {
    const res = await get('/dashboard/manage', { cookie: 'masakari_session=gAAAAA-not-a-token' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/dashboard/login');
    assert.match(cookieOf(res, 'masakari_session')!, /Max-Age=0/);
  });

  test('Keystone unreachable: the login form answers 503 and says so', async () => {
    const csrf = await loginForm();
    await ks.stop();
    const res = await postLogin({ _csrf: csrf, user: 'admin', password: 'adminpw', project: 'p', domain: 'Default' }, { cookie: `masakari_csrf=${csrf}` });
    assert.equal(res.status, 503);
    assert.match(await res.text(), /Keystone is not reachable right now/);
  });
});
