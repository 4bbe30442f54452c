// The dashboard under keystone, in a real browser (Debian's chromium), against the OpenStack lab's real Keystone
// and Nova (test/labs/openstack: heavy, started once for this file). The controller runs in process through the
// real role wiring (roles/controller.ts: token validator, password login, Nova host catalog). Checks: the login
// form gets a Keystone token into an HttpOnly SameSite=Strict cookie; forms create a segment and a Nova host with
// the API's messages; a member (reader policy) sees no action buttons and gets 403 forcing one; the token appears
// in no URL, page or log line; logout ends the session.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { parseConfig } from '../../src/core/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { start, type RunningController } from '../../src/roles/controller.ts';
import { labUnavailableReason, startLab, type OpenStackLab } from '../labs/openstack/lab.ts';
import { requireComponent } from '../support/components.ts';
import { LAPTOP, chromiumInstalled, js, launchBrowser, screenshot, textOf } from './browser.ts';

// Readers may look (the dashboard shows what the API lets them read); changes stay rule:admin_api.
const READ = 'rule:admin_api or role:reader or role:member';
const READ_RULES = Object.fromEntries(
  ['segments', 'os-hosts', 'notifications', 'vmoves'].flatMap((r) => ['index', 'detail'].map((a) => [`os_masakari_api:${r}:${a}`, READ])),
);

describe('dashboard under keystone, real Keystone and Nova (OpenStack lab)', { timeout: 900_000 }, () => {
  const unavailable = labUnavailableReason();
  let lab: OpenStackLab | undefined;
  let controller: RunningController | undefined;
  let browser: Browser | undefined;
  let dir = '';
  let base = '';
  const logLines: string[] = [];
  const member = { name: `dash-member-${process.pid}`, password: 'member-pw-1' };
  let adminToken = '';
  let ks = '';

  before(async () => {
    if (unavailable || !chromiumInstalled()) return;
    lab = await startLab({ computes: 1 });
    dir = mkdtempSync(join(tmpdir(), 'dash-ks-'));
    const { auth_url, username, password, project_name, region_name, interface: itf } = lab.config();
    ks = String(auth_url).replace(/\/+$/, '');
    const config = parseConfig(
      {
        controller: { compute_driver: 'nova' },
        openstack: { auth_url, username, password, project_name, region_name, interface: itf },
        database: { url: `sqlite:${join(dir, 'masakari.sqlite')}`, auto_migrate: true },
        api: { listen: '127.0.0.1:0', auth_strategy: 'keystone', keystone: { auth_url, username, password, project_name }, policy: READ_RULES },
      },
      'test',
    );
    // Every log line, at debug, to look for the token afterwards.
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    });
    controller = await start(config, createLogger('debug', 'json', sink));
    base = `http://127.0.0.1:${controller.port}/dashboard`;
    browser = await launchBrowser();

    // A member of the lab's project (Keystone admin API with an admin token).
    const tokenRes = await fetch(`${ks}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: username, domain: { name: 'Default' }, password } } },
          scope: { project: { name: project_name, domain: { name: 'Default' } } },
        },
      }),
    });
    assert.equal(tokenRes.status, 201);
    adminToken = tokenRes.headers.get('x-subject-token')!;
    const adminJson = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(ks + path, {
        method,
        headers: { 'content-type': 'application/json', 'x-auth-token': adminToken },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      assert.ok(r.ok, `${method} ${path}: ${r.status}`);
      return r.status === 204 ? {} : ((await r.json()) as Record<string, any>);
    };
    const projectId = String((await adminJson('GET', `/projects?name=${encodeURIComponent(String(project_name))}`)).projects[0].id);
    const memberRole = (await adminJson('GET', '/roles?name=member')).roles[0] ?? (await adminJson('POST', '/roles', { role: { name: 'member' } })).role;
    const user = (await adminJson('POST', '/users', { user: { name: member.name, password: member.password, domain_id: 'default' } })).user;
    await adminJson('PUT', `/projects/${projectId}/users/${user.id}/roles/${memberRole.id}`);
  });
  after(async () => {
    await browser?.close();
    await controller?.stop();
    lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ready = (t: Parameters<typeof requireComponent>[0]) =>
    requireComponent(t, `OpenStack lab (${unavailable ?? ''})`, unavailable === null) && requireComponent(t, 'chromium (Debian package)', chromiumInstalled());

  async function login(page: Page, user: string, password: string): Promise<number | undefined> {
    await page.goto(`${base}/login`);
    const { project_name } = lab!.config();
    await page.type('#login-user', user);
    await page.type('#login-password', password);
    await page.type('#login-project', String(project_name));
    const [res] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/login"] button[type=submit]')]);
    return res?.status();
  }

  async function submit(page: Page, selector: string) {
    const [res] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
    return res?.status();
  }

  test('login through Keystone; segment and Nova host through the forms; token only in an HttpOnly cookie', async (t) => {
    if (!ready(t)) return;
    const ctx = await browser!.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport(LAPTOP);
    const visited: string[] = [];
    page.on('request', (r) => visited.push(r.url()));

    // Not logged in: the pages send the browser to the login form.
    await page.goto(`${base}/`);
    assert.equal(new URL(page.url()).pathname, '/dashboard/login');
    await screenshot(page, 'login');
    const { username, password } = lab!.config();
    assert.equal(await login(page, String(username), 'not-the-password'), 401);
    assert.match((await textOf(page, 'p.alert'))!, /Keystone did not accept/);
    assert.equal(await js(page, `document.querySelector('#login-password').value`), '', 'the password is not sent back');

    assert.equal(await login(page, String(username), String(password)), 200);
    assert.equal(new URL(page.url()).pathname, '/dashboard/');
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'masakari_session');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/dashboard');
    assert.equal(await js(page, 'document.cookie'), '', 'script sees no cookie at all');
    const token = session.value;
    assert.match(token, /^\S{20,}$/);

    // A segment and a host through the forms; the host name is checked against Nova by the API.
    await page.goto(`${base}/manage`);
    await page.type('#sc-name', 'ks-segment');
    assert.equal(await submit(page, 'form[action$="/dashboard/segments"] button[type=submit]'), 200);
    assert.equal(await textOf(page, 'p.done'), 'Segment created.');
    await Promise.all([page.waitForNavigation(), page.click('#m-segments tbody th a')]);
    const segmentUrl = page.url();
    await page.type('#hc-name', lab!.hosts[0]!);
    assert.equal(await submit(page, 'form[action$="/hosts"] button[type=submit]'), 200);
    assert.equal(await textOf(page, 'p.done'), 'Host added.');
    assert.match((await textOf(page, '#s-hosts'))!, new RegExp(lab!.hosts[0]!));
    // An unknown compute host: the API's message, as an API client gets it.
    const segId = segmentUrl.split('/').pop()!;
    const direct = await fetch(`http://127.0.0.1:${controller!.port}/v1/segments/${segId}/hosts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': adminToken },
      body: JSON.stringify({ host: { name: 'not-a-nova-host', type: 'COMPUTE', control_attributes: 'SSH' } }),
    });
    assert.equal(direct.status, 400);
    const expected = ((await direct.json()) as { badRequest: { message: string } }).badRequest.message;
    await page.type('#hc-name', 'not-a-nova-host');
    assert.equal(await submit(page, 'form[action$="/hosts"] button[type=submit]'), 400);
    assert.equal(await textOf(page, 'p.alert'), expected);
    await screenshot(page, 'segment-keystone');

    // The token is nowhere but in the cookie: not in a URL, a page, or a log line.
    assert.ok(visited.length > 5);
    assert.ok(
      visited.every((u) => !u.includes(token)),
      'no URL carries the token',
    );
    assert.ok(!(await page.content()).includes(token), 'no page carries the token');
    assert.ok(logLines.length > 10, 'the controller logged');
    assert.ok(
      logLines.every((l) => !l.includes(token)),
      'no log line carries the token',
    );
    assert.ok(
      logLines.some((l) => l.includes('"msg":"dashboard login"')),
      'the login itself is logged (user, project)',
    );

    // Logout ends the session.
    await submit(page, 'form[action$="/logout"] button');
    assert.equal(new URL(page.url()).pathname, '/dashboard/login');
    assert.equal(
      (await ctx.cookies()).find((c) => c.name === 'masakari_session'),
      undefined,
    );
    await page.goto(`${base}/manage`);
    assert.equal(new URL(page.url()).pathname, '/dashboard/login');
    await ctx.close();
  });

  test('a member (read-only policy) sees no action buttons, and forcing an action gets 403 from the policy', async (t) => {
    if (!ready(t)) return;
    const ctx = await browser!.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport(LAPTOP);
    assert.equal(await login(page, member.name, member.password), 200);
    await page.goto(`${base}/manage`);
    assert.match((await textOf(page, '#m-segments'))!, /ks-segment/, 'the reader policy lets a member look');
    assert.equal(await page.$('#sc-name'), null, 'no create form');
    await Promise.all([page.waitForNavigation(), page.click('#m-segments tbody th a')]);
    const segmentPath = new URL(page.url()).pathname;
    assert.match((await textOf(page, '#s-hosts'))!, new RegExp(lab!.hosts[0]!));
    const buttons = await page.$$eval('main button', (bs) => bs.map((b) => b.textContent));
    assert.deepEqual(buttons, [], 'no action button in the page');
    assert.equal(await page.$('#hc-name'), null);

    // Forcing one: a well-formed form post (valid CSRF token, from the logout form) is refused by the API's policy.
    const csrf = (await js(page, `document.querySelector('input[name=_csrf]').value`)) as string;
    const forced = (await js(
      page,
      `fetch(${JSON.stringify(`${segmentPath}/delete`)}, { method: 'POST', body: new URLSearchParams({ _csrf: ${JSON.stringify(csrf)} }) })
        .then(async (r) => ({ status: r.status, text: await r.text() }))`,
    )) as { status: number; text: string };
    assert.equal(forced.status, 403);
    assert.match(forced.text, /Policy doesn&#39;t allow os_masakari_api:segments:delete to be performed\./);
    const create = (await js(
      page,
      `fetch('/dashboard/segments', { method: 'POST', body: new URLSearchParams({ _csrf: ${JSON.stringify(csrf)}, name: 'by-member', recovery_method: 'auto', service_type: 'COMPUTE' }) })
        .then((r) => r.status)`,
    )) as number;
    assert.equal(create, 403);
    // Without the CSRF token the request does not even reach the API.
    const noCsrf = (await js(
      page,
      `fetch(${JSON.stringify(`${segmentPath}/delete`)}, { method: 'POST', body: new URLSearchParams({}) }).then((r) => r.text())`,
    )) as string;
    assert.match(noCsrf, /CSRF token missing or wrong/);
    const segs = await controller!.store.listSegments({ filters: {}, sort: [], limit: 100 });
    assert.deepEqual(
      segs.map((s) => s.name),
      ['ks-segment'],
      'nothing was created or deleted',
    );
    await screenshot(page, 'segment-reader');
    await ctx.close();
  });
});
