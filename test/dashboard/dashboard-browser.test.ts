// The dashboard in a real browser (Debian's chromium through puppeteer-core) against a real API app on a real
// SQLite store, noauth2. Forms create and change segments and hosts (the messages must be the API's own), output
// is escaped, the protection report and what-if say clearly that they are not built in, and the recovery page
// follows a recovery live from the event stream (a stand-in until the real stream lands) without a reload,
// through a controller restart. Screenshots of each page at laptop and phone widths: browser.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { createApiApp, startApiServer, type ApiApp, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { NO_PROTECTION } from '../../src/core/dashboard/views/overview.ts';
import { NO_WHATIF } from '../../src/core/dashboard/views/host.ts';
import { requireComponent } from '../support/components.ts';
import { LAPTOP, PHONE, accessibilityProblems, chromiumInstalled, js, launchBrowser, screenshot, textOf, waitJs } from './browser.ts';
import { StandInEvents } from './event-stand-in.ts';
import { StandInExtensions } from './extension-stand-in.ts';

const XSS = '<script>alert(1)</script>';

async function apiCall(app: ApiApp, method: string, path: string, body?: unknown) {
  const res = await app.request(path, {
    method,
    headers: { 'Content-Type': 'application/json', 'OpenStack-API-Version': 'instance-ha 1.3' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}
const messageOf = (body: Record<string, any>) => (Object.values(body)[0] as { message: string }).message;

describe('dashboard in a real browser (noauth2)', { timeout: 300_000 }, () => {
  let store: Store;
  let app: ApiApp;
  let server: RunningApi;
  let port = 0;
  let base = '';
  let browser: Browser;
  let page: Page;
  const events = new StandInEvents();
  const extensions = new StandInExtensions();
  const dialogs: string[] = [];
  const ids: { segment?: string; host1?: string; host2?: string; notification?: string } = {};

  before(async () => {
    if (!chromiumInstalled()) return;
    store = openSqliteStore({ path: ':memory:' });
    app = createApiApp({
      store,
      config: parseConfig({}, 'test'),
      log: silentLogger,
      hostCatalog: acceptAllHostCatalog,
      dashboard: { wrapApi: (inner) => events.wrap(extensions.wrap(inner)) },
    });
    server = await startApiServer(app, '127.0.0.1:0');
    port = server.port;
    base = `http://127.0.0.1:${port}/dashboard`;
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setViewport(LAPTOP);
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.accept();
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  async function submit(selector: string) {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
  }

  test('segments and hosts through the forms: API validation messages, escaped names, toggles, edit, delete', async (t) => {
    if (!requireComponent(t, 'chromium (Debian package)', chromiumInstalled())) return;
    await page.goto(`${base}/manage`);
    assert.equal(await page.title(), 'Segments and hosts · masakari');

    // An empty name: the API refuses, and the form shows the API's own message with its status.
    const expected = await apiCall(app, 'POST', '/v1/segments', { segment: { name: '', recovery_method: 'auto', service_type: 'COMPUTE', enabled: true } });
    assert.equal(expected.status, 400);
    const [res] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/dashboard/segments"] button[type=submit]')]);
    assert.equal(res?.status(), 400);
    assert.equal(await textOf(page, 'p.alert'), messageOf(expected.body));

    // A segment named like a script: stored and shown as text, never run.
    await page.type('#sc-name', XSS);
    await page.type('#sc-desc', 'rack <b>A</b>');
    await page.select('#sc-method', 'reserved_host');
    await submit('form[action$="/dashboard/segments"] button[type=submit]');
    assert.equal(await textOf(page, 'p.done'), 'Segment created.');
    const link = await page.$eval('#m-segments tbody th a', (a) => ({ text: a.textContent, html: a.innerHTML, href: a.getAttribute('href') }));
    assert.equal(link.text, XSS);
    assert.equal(link.html, '&lt;script&gt;alert(1)&lt;/script&gt;');
    assert.equal(await page.$$eval('script', (s) => s.length), 1, 'only the dashboard script is on the page');
    ids.segment = link.href!.split('/').pop()!;
    const stored = await store.getSegment(ids.segment!);
    assert.equal(stored?.name, XSS);
    assert.equal(stored?.recoveryMethod, 'reserved_host');
    await screenshot(page, 'manage');

    // Hosts.
    await page.goto(`${base}/segments/${ids.segment!}`);
    await page.type('#hc-name', 'compute-1');
    await submit('form[action$="/hosts"] button[type=submit]');
    assert.equal(await textOf(page, 'p.done'), 'Host added.');
    await page.type('#hc-name', 'compute-2');
    await page.click('#hc-reserved');
    await submit('form[action$="/hosts"] button[type=submit]');
    const hosts = await store.listHostsOfSegment(ids.segment!);
    assert.deepEqual(hosts.map((h) => [h.name, h.reserved]).sort(), [
      ['compute-1', false],
      ['compute-2', true],
    ]);
    ids.host1 = hosts.find((h) => h.name === 'compute-1')!.uuid;
    ids.host2 = hosts.find((h) => h.name === 'compute-2')!.uuid;

    // A second host of the same name: the API's conflict message, the form keeps what was typed.
    const dup = await apiCall(app, 'POST', `/v1/segments/${ids.segment!}/hosts`, { host: { name: 'compute-1', type: 'COMPUTE', control_attributes: 'SSH' } });
    assert.equal(dup.status, 409);
    await page.type('#hc-name', 'compute-1');
    const [dupRes] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/hosts"] button[type=submit]')]);
    assert.equal(dupRes?.status(), 409);
    assert.equal(await textOf(page, 'p.alert'), messageOf(dup.body));
    assert.equal(await js(page, `document.querySelector('#hc-name').value`), 'compute-1');

    // Maintenance on, reserved off, by the row buttons.
    await submit('button[aria-label="Start maintenance of compute-1"]');
    assert.equal((await store.getHost(ids.host1))?.onMaintenance, true);
    assert.match((await textOf(page, 'tr[data-host="compute-1"]'))!, /on maintenance/);
    await submit('button[aria-label="Unreserve compute-2"]');
    assert.equal((await store.getHost(ids.host2))?.reserved, false);
    await submit('button[aria-label="End maintenance of compute-1"]');
    assert.equal((await store.getHost(ids.host1))?.onMaintenance, false);

    // Edit: control attributes.
    await Promise.all([page.waitForNavigation(), page.click('a[aria-label="Edit compute-2"]')]);
    await js(page, `document.querySelector('#hu-ctl').value = ''`);
    await page.type('#hu-ctl', 'IPMI');
    await submit('form button[type=submit]:not([aria-label])');
    assert.equal((await store.getHost(ids.host2))?.controlAttributes, 'IPMI');

    // Segment: disable, enable, rename (validation message again from the API).
    await submit('form[action$="/segments/' + ids.segment! + '"] + .actions button, .actions form button');
    assert.equal((await store.getSegment(ids.segment!))?.enabled, false);
    await submit('.actions form button');
    assert.equal((await store.getSegment(ids.segment!))?.enabled, true);
    const tooLong = 'x'.repeat(256);
    const expectLong = await apiCall(app, 'PUT', `/v1/segments/${ids.segment!}`, { segment: { name: tooLong } });
    assert.equal(expectLong.status, 400);
    await js(page, `document.querySelector('#su-name').value = ${JSON.stringify(tooLong)}`);
    await submit('#su-name ~ button, form.grid button[type=submit]');
    assert.equal(await textOf(page, 'p.alert'), messageOf(expectLong.body));
    assert.equal((await store.getSegment(ids.segment!))?.name, XSS);

    // Delete a host (after a confirmation dialog).
    const extra = await apiCall(app, 'POST', `/v1/segments/${ids.segment!}/hosts`, { host: { name: 'compute-3', type: 'COMPUTE', control_attributes: 'SSH' } });
    await page.goto(`${base}/segments/${ids.segment!}`);
    await submit('button[aria-label="Delete compute-3"]');
    assert.ok(
      dialogs.some((d) => d.startsWith('confirm: Delete host compute-3')),
      dialogs.join('; '),
    );
    assert.equal(await store.getHost(extra.body.host.uuid), undefined);
    assert.ok(!dialogs.some((d) => d.startsWith('alert')), 'no script ran from data');

    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'segment');
    await page.setViewport(PHONE);
    await page.reload();
    const overflow = (await js(page, 'document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    assert.ok(overflow <= 1, `the page is not wider than a phone (overflow ${overflow}px)`);
    await screenshot(page, 'segment-phone');
    await page.setViewport(LAPTOP);
  });

  test('overview and host page: state what is missing (no protection report, no what-if) instead of guessing', async (t) => {
    if (!requireComponent(t, 'chromium (Debian package)', chromiumInstalled())) return;
    await page.goto(`${base}/`);
    assert.match((await textOf(page, '#ov-hosts'))!, new RegExp(NO_PROTECTION.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    assert.match((await textOf(page, '#ov-hosts'))!, /compute-1/);
    assert.match((await textOf(page, '#ov-segments'))!, /reserved_host/);
    assert.deepEqual(await accessibilityProblems(page), []);
    // Keyboard: the first Tab reaches the skip link, Enter moves focus to the main content.
    await page.keyboard.press('Tab');
    assert.equal(await js(page, 'document.activeElement.textContent'), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await js(page, 'document.activeElement.id'), 'main');
    await screenshot(page, 'overview');

    await page.goto(`${base}/hosts/${ids.host1!}`);
    assert.equal(await page.title(), 'Host compute-1 · masakari');
    assert.match((await textOf(page, '#h-plan'))!, new RegExp(NO_WHATIF.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'host');
  });

  test('with a protection report and a what-if plan (contract-shaped stand-ins): states, reasons, N+1, agent, fencer, VMs; live on protection.change', async (t) => {
    if (!requireComponent(t, 'chromium (Debian package)', chromiumInstalled())) return;
    const segment = (await store.getSegment(ids.segment!))!;
    const at = new Date().toISOString();
    const host = (name: string, uuid: string, prot: boolean, reasons: string[], fencing: string) => ({
      name,
      uuid,
      segment: segment.name,
      segment_uuid: segment.uuid,
      protected: prot,
      reasons,
      warnings: [],
      agent: { last_seen: at, silent: false, version: '0.1.0', monitors: {} },
      fencing: { state: fencing, checked_at: at, detail: null },
    });
    extensions.protection = {
      generated_at: at,
      hosts: [host('compute-1', ids.host1!, true, [], 'ok'), host('compute-2', ids.host2!, false, ['no fencer configured for compute-2'], 'not_configured')],
      segments: [
        {
          name: segment.name,
          uuid: segment.uuid,
          protected: false,
          n_plus_one: false,
          breaking_hosts: ['compute-1'],
          reasons: ['losing compute-1 leaves 1 VM without room'],
        },
      ],
    };
    extensions.whatif.set('compute-1', {
      host: 'compute-1',
      segment: segment.name,
      recovery_method: 'reserved_host',
      instances: [
        { id: '9d7d3a55-7b8e-4f53-9d0e-6a8c2b0f4e01', name: 'web-1', recovered: true, target: 'compute-2', candidates: ['compute-2'], reason: null },
        { id: '1c2b7e0a-3f5d-4d8a-8b61-2f0e9c7d5a02', name: 'db-1', recovered: false, target: null, candidates: [], reason: 'no host has 8 vCPUs free' },
      ],
      capacity: [{ host: 'compute-2', before: { vcpus: 8, ram_mb: 16384, disk_gb: null }, after: { vcpus: 6, ram_mb: 12288, disk_gb: null } }],
      shortfall: { vcpus: 8, ram_mb: 16384, disk_gb: 0 },
      estimated_makespan_seconds: 42,
    });
    await page.goto(`${base}/`);
    await waitJs(page, `document.body.getAttribute('data-live-state') === 'open'`);
    const hostsText = (await textOf(page, '#ov-hosts'))!;
    assert.doesNotMatch(hostsText, /not available/);
    assert.match(hostsText, /compute-1 .* protected/);
    assert.match(hostsText, /compute-2 .* unprotected no fencer configured for compute-2/);
    assert.match((await textOf(page, '#ov-segments'))!, /N\+1 broken losing compute-1 leaves VMs without room/);
    await screenshot(page, 'overview-protection');

    // A protection change arrives: the hosts part is fetched again, nothing else, no reload.
    await js(page, `window.marker = 'overview'`);
    const before = extensions.calls;
    extensions.protection.hosts[1] = host('compute-2', ids.host2!, true, [], 'ok');
    events.publish('protection.change', { host: 'compute-2', segment: segment.name, protected: true, reasons: [] });
    await waitJs(page, `!document.querySelector('#ov-hosts').textContent.includes('unprotected')`);
    assert.equal(await js(page, 'window.marker'), 'overview');
    assert.ok(
      extensions.calls > before && extensions.calls <= before + 2,
      `one or two re-fetches (segments and hosts parts), got ${extensions.calls - before}`,
    );

    await page.goto(`${base}/hosts/${ids.host1!}`);
    const facts = (await textOf(page, '#h-facts'))!;
    assert.match(facts, /Agent reporting last seen/);
    assert.match(facts, /Fencer ok checked/);
    const plan = (await textOf(page, '#h-plan'))!;
    assert.match(plan, /1 of 2 VMs would be recovered, in about 42 s/);
    assert.match(plan, /db-1 .* no — no host has 8 vCPUs free/);
    assert.match(plan, /compute-2 8 → 6 16384 → 12288 unknown → unknown/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'host-whatif');
    extensions.protection = null;
    extensions.whatif.clear();
  });

  test('recovery page follows a recovery live (no reload), and reconnects after a controller restart', async (t) => {
    if (!requireComponent(t, 'chromium (Debian package)', chromiumInstalled())) return;
    const created = await apiCall(app, 'POST', '/v1/notifications', {
      notification: {
        type: 'COMPUTE_HOST',
        hostname: 'compute-2',
        generated_time: new Date().toISOString().slice(0, 19),
        payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
      },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const id: string = created.body.notification.notification_uuid;
    ids.notification = id;
    await page.goto(`${base}/recoveries/${id}`);
    await waitJs(page, `document.body.getAttribute('data-live-state') === 'open'`);
    await js(page, `window.marker = 'same page'`);
    assert.equal(await page.$eval('[data-status]', (e) => e.getAttribute('data-status')), 'new');

    const now = () => new Date();
    const status = (s: string) => waitJs(page, `document.querySelector('[data-status]')?.getAttribute('data-status') === ${JSON.stringify(s)}`);
    const publish = (type: string, extra: Record<string, unknown> = {}) => events.publish(type, { notification_uuid: id, ...extra });

    // The engine's steps, written to the store and announced on the stream.
    await store.setNotificationStatus(id, 'running', now());
    const fence = await store.appendTask(id, 'FenceHostTask', 'RUNNING', now());
    await store.updateTask(id, fence, { addDetail: { timestamp: now(), message: "Fencing host 'compute-2'", progress: 0.1 } }, now());
    publish('notification.process.start');
    await status('running');
    await waitJs(page, `document.querySelector('#rc-fencing')?.textContent?.includes("Fencing host 'compute-2'")`);

    // Controller restart: the page says it is reconnecting, and catches up once the controller is back.
    await server.close();
    await waitJs(page, `document.body.getAttribute('data-live-state') === 'reconnecting'`);
    assert.match((await textOf(page, '#live-banner'))!, /reconnecting/);
    await screenshot(page, 'recovery-reconnecting');
    await store.updateTask(
      id,
      fence,
      { state: 'SUCCESS', progress: 1, addDetail: { timestamp: now(), message: "Host 'compute-2' is fenced: ipmi: power is off", progress: 1 } },
      now(),
    );
    server = await startApiServer(app, `127.0.0.1:${port}`);
    await waitJs(page, `document.body.getAttribute('data-live-state') === 'open'`);
    assert.equal(await js(page, `document.querySelector('#live-banner').hidden`), true);
    await waitJs(page, `document.querySelector('#rc-fencing')?.textContent?.includes('is fenced: ipmi: power is off')`);

    // Instances: queued -> evacuating -> confirmed, each from one event.
    const evac = await store.appendTask(id, 'EvacuateInstancesTask', 'RUNNING', now());
    const move = await store.createVMove(
      {
        notificationUuid: id,
        instanceUuid: '6f1e2c1a-51b4-4c57-9a38-3d7f3c2f0a11',
        instanceName: 'vm-a',
        sourceHost: 'compute-2',
        destHost: null,
        type: 'evacuation',
        status: 'pending',
      },
      now(),
    );
    publish('recovery.task.start', { task: 'EvacuateInstancesTask', status: 'RUNNING' });
    await waitJs(page, `document.querySelector('[data-instance-state]')?.getAttribute('data-instance-state') === 'queued'`);
    await store.updateVMove(move.uuid, { status: 'ongoing', startTime: now(), destHost: 'compute-1' }, now());
    publish('recovery.instance.state', { instance_uuid: move.instanceUuid, state: 'evacuating' });
    await waitJs(page, `document.querySelector('[data-instance-state]')?.getAttribute('data-instance-state') === 'evacuating'`);
    await store.updateVMove(move.uuid, { status: 'succeeded', endTime: now() }, now());
    await store.updateTask(id, evac, { state: 'SUCCESS', progress: 1, addDetail: { timestamp: now(), message: 'Evacuated 1 instance', progress: 1 } }, now());
    publish('recovery.instance.state', { instance_uuid: move.instanceUuid, state: 'confirmed' });
    await waitJs(page, `document.querySelector('[data-instance-state]')?.getAttribute('data-instance-state') === 'confirmed'`);
    // An event about another notification changes nothing here.
    await store.setNotificationStatus(id, 'finished', now());
    events.publish('notification.process.end', { notification_uuid: '00000000-0000-4000-8000-000000000000' });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await page.$eval('[data-status]', (e) => e.getAttribute('data-status')), 'running');
    publish('notification.process.end');
    await status('finished');
    assert.equal(await js(page, 'window.marker'), 'same page', 'no reload happened');
    assert.match((await textOf(page, '#rc-tasks'))!, /FenceHostTask SUCCESS 100%.*took/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'recovery');
    await page.setViewport(PHONE);
    await screenshot(page, 'recovery-phone');
    await page.setViewport(LAPTOP);
  });

  test('security: CSRF token required, cookie flags, CSP; nothing secret in URLs', async (t) => {
    if (!requireComponent(t, 'chromium (Debian package)', chromiumInstalled())) return;
    const first = await fetch(`${base}/manage`);
    const setCookie = first.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /masakari_csrf=[A-Za-z0-9_-]{43}; Path=\/dashboard; HttpOnly; SameSite=Strict/);
    assert.doesNotMatch(setCookie, /Secure/, 'plain http: no Secure flag (the browser would drop the cookie)');
    assert.match(first.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const cookie = setCookie.split(';')[0]!;
    const token = cookie.split('=')[1]!;
    const form = (extra: Record<string, string>) => new URLSearchParams({ name: 'csrf-test', recovery_method: 'auto', service_type: 'COMPUTE', ...extra });
    const post = (headers: Record<string, string>, body: URLSearchParams) =>
      fetch(`${base}/segments`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body });
    assert.equal((await post({ cookie }, form({}))).status, 403, 'no token in the form');
    assert.equal((await post({ cookie }, form({ _csrf: 'x'.repeat(43) }))).status, 403, 'a wrong token');
    assert.equal((await post({}, form({ _csrf: token }))).status, 403, 'a token without its cookie');
    assert.equal((await store.listSegments({ filters: {}, sort: [], limit: 100 })).filter((s) => s.name === 'csrf-test').length, 0);
    const ok = await post({ cookie }, form({ _csrf: token }));
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/dashboard/manage?done=segment-created');
    // Oversized forms are refused before any field is looked at, with or without a declared length.
    const big = `_csrf=${token}&name=${'x'.repeat(70_000)}`;
    assert.equal(
      (await fetch(`${base}/segments`, { method: 'POST', headers: { cookie, 'Content-Type': 'application/x-www-form-urlencoded' }, body: big })).status,
      413,
    );
    const chunked = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(new TextEncoder().encode(big));
        ctl.close();
      },
    });
    const chunkedRes = await fetch(`${base}/segments`, {
      method: 'POST',
      headers: { cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: chunked,
      duplex: 'half',
    });
    assert.equal(chunkedRes.status, 413);
    // Over https (here: a request the app sees as https) the cookie is Secure.
    const overHttps = await app.request('https://masakari.example/dashboard/manage');
    assert.match(overHttps.headers.get('set-cookie') ?? '', /; Secure/);
    // The pages' links and forms carry no token.
    await page.goto(`${base}/`);
    const urls = await page.$$eval('a[href], form[action]', (els) => els.map((e) => e.getAttribute('href') ?? e.getAttribute('action') ?? ''));
    assert.ok(urls.length > 3);
    assert.ok(
      urls.every((u) => !/token|_csrf/i.test(u)),
      urls.join(' '),
    );
  });
});
