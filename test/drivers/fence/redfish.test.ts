// The Redfish driver over real HTTPS (certificate made by openssl at test time) against the test's own Redfish
// endpoint, and the real fence_redfish agent against the same endpoint through the agent driver.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { haveCommand, requireComponent } from '../../support/components.ts';
import { haveOpenssl, makeSelfSignedCert, startRedfishBmc, type Cert, type RedfishBmc } from '../../labs/bmc/redfish-bmc.ts';
import { FenceError } from '../../../src/drivers/fence/errors.ts';
import { captureLog, fencerFor, rejection } from './helpers.ts';

const PASSWORD = 'Redfish-S3cret-2';
const available = haveOpenssl();

describe('redfish driver against an HTTPS Redfish endpoint', { timeout: 120_000 }, () => {
  let cert: Cert | undefined;
  let bmc: RedfishBmc | undefined;
  let multi: RedfishBmc | undefined;

  before(async () => {
    if (!available) return;
    cert = await makeSelfSignedCert();
    bmc = await startRedfishBmc({ cert, user: 'root', password: PASSWORD });
    multi = await startRedfishBmc({ cert, user: 'root', password: PASSWORD, systems: ['1', '2'] });
  });
  after(async () => {
    await bmc?.close();
    await multi?.close();
    cert?.remove();
  });
  beforeEach(() => {
    if (!bmc) return;
    bmc.power.set('1', 'On');
    bmc.stuck = false;
    bmc.hang = false;
    bmc.transitionPolls = 0;
  });

  const host = (over: Record<string, unknown> = {}) => ({
    kind: 'redfish',
    url: bmc!.url,
    username: 'root',
    password: PASSWORD,
    ca_file: cert!.certFile,
    ...over,
  });
  const need = (t: Parameters<typeof requireComponent>[0]) => requireComponent(t, 'openssl (to make the test certificate)', available);

  test('discovers the system, powers it off and on, and confirms through PowerState', async (t) => {
    if (!need(t)) return;
    const f = fencerFor({ c1: host() });
    assert.equal(await f.status('c1'), 'on');
    const off = await f.powerOff('c1');
    assert.equal(off.confirmed, 'off');
    assert.equal(bmc!.power.get('1'), 'Off');
    assert.match(off.evidence, /redfish 127\.0\.0\.1:\d+: status before: on/);
    assert.match(off.evidence, /POST \/redfish\/v1\/Systems\/1\/Actions\/ComputerSystem\.Reset \{"ResetType":"ForceOff"\}: HTTP 204/);
    assert.match(off.evidence, /status query confirms off/);
    const on = await f.powerOn('c1');
    assert.equal(on.confirmed, 'on');
    assert.deepEqual(bmc!.resets().slice(-2), ['ForceOff', 'On']);
    assert.ok(
      bmc!.log.every((l) => l.path === '/redfish/v1' || l.auth === 'ok'),
      'credentials on every request but the service root',
    );
  });

  test('polls through PoweringOff until Off', async (t) => {
    if (!need(t)) return;
    bmc!.transitionPolls = 3;
    const f = fencerFor({ c1: host() });
    const r = await f.powerOff('c1');
    assert.equal(r.confirmed, 'off');
    assert.match(r.evidence, /status query confirms off .* \(4 queries\)/);
  });

  test('Reset accepted but the power stays on: unconfirmed, with the last state', async (t) => {
    if (!need(t)) return;
    bmc!.stuck = true;
    const f = fencerFor({ c1: host({ confirm_timeout_seconds: 0.4 }) });
    const r = await f.powerOff('c1');
    assert.equal(r.confirmed, 'on');
    assert.match(r.evidence, /status did not show off within 0\.4 s: last status on/);
  });

  test('wrong password: HTTP 401 becomes an auth error, without retries', async (t) => {
    if (!need(t)) return;
    const log = captureLog();
    const resetsBefore = bmc!.resets().length;
    const f = fencerFor({ c1: host({ password: 'wrong-pw-3', retries: 3 }) }, { logger: log.logger });
    const e = await rejection(() => f.powerOff('c1'));
    assert.ok(e instanceof FenceError);
    assert.equal(e.code, 'auth');
    assert.match(e.message, /rejected the credentials of user root \(GET \/redfish\/v1\/Systems: HTTP 401\)/);
    assert.equal(log.find('status query: attempt').length, 0);
    assert.equal(bmc!.resets().length, resetsBefore);
    assert.equal(bmc!.power.get('1'), 'On');
  });

  test('a self-signed certificate is refused unless trusted: ca_file or verify_tls false', async (t) => {
    if (!need(t)) return;
    const strict = fencerFor({ c1: host({ ca_file: null }) });
    const e = await rejection(() => strict.status('c1'));
    assert.equal(e.code, 'config');
    assert.match(e.message, /not trusted: set ca_file/);
    const insecure = fencerFor({ c1: host({ ca_file: null, verify_tls: false }) });
    assert.equal(await insecure.status('c1'), 'on');
    assert.match(insecure.for('c1').describe, /TLS not verified/);
  });

  test('a BMC that never answers: timeout per request, retried, then a timeout error', async (t) => {
    if (!need(t)) return;
    bmc!.hang = true;
    const before = bmc!.log.length;
    const f = fencerFor({ c1: host({ timeout_seconds: 0.3, retries: 1 }) });
    const e = await rejection(() => f.status('c1'));
    assert.equal(e.code, 'timeout');
    assert.match(e.message, /after 2 attempts: GET \/redfish\/v1: no answer within 0\.3 s/);
    assert.equal(bmc!.log.length - before, 2);
  });

  test("the caller's abort (the fence gate's deadline) stops a hanging request at once: aborted, not retried", async (t) => {
    if (!need(t)) return;
    bmc!.hang = true;
    const before = bmc!.log.length;
    const f = fencerFor({ c1: host({ timeout_seconds: 30, retries: 3 }) });
    const ac = new AbortController();
    const started = Date.now();
    const pending = rejection(() => f.status('c1', ac.signal));
    // Abort once the BMC holds the request (a fixed delay could fire before the TLS handshake on a busy machine).
    while (bmc!.log.length === before && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    const e = await pending;
    assert.equal(e.code, 'aborted');
    assert.ok(Date.now() - started < 10_000, 'not held until the 30 s request timeout');
    assert.equal(bmc!.log.length - before, 1);
  });

  test('session auth: one session per request group, always logged out; a wrong password is an auth error', async (t) => {
    if (!need(t)) return;
    const sess = await startRedfishBmc({ cert: cert!, user: 'root', password: PASSWORD, basicAuth: false });
    try {
      const basic = fencerFor({ c1: host({ url: sess.url, retries: 0 }) });
      assert.equal((await rejection(() => basic.status('c1'))).code, 'auth', 'this BMC refuses basic auth');

      const f = fencerFor({ c1: host({ url: sess.url, auth: 'session' }) });
      const r = await f.powerOff('c1');
      assert.equal(r.confirmed, 'off');
      assert.equal(sess.power.get('1'), 'Off');
      assert.ok(sess.sessionsCreated >= 3, 'status before, command, confirmation');
      assert.equal(sess.sessions.size, 0, 'every session logged out');

      const wrong = fencerFor({ c1: host({ url: sess.url, auth: 'session', password: 'wrong-pw-5' }) });
      const e = await rejection(() => wrong.status('c1'));
      assert.equal(e.code, 'auth');
      assert.match(e.message, /POST \/redfish\/v1\/SessionService\/Sessions: HTTP 401/);
    } finally {
      await sess.close();
    }
  });

  test('nothing listening: unreachable', async (t) => {
    if (!need(t)) return;
    const f = fencerFor({ c1: host({ url: 'https://127.0.0.1:1', retries: 0 }) });
    const e = await rejection(() => f.status('c1'));
    assert.equal(e.code, 'unreachable');
    assert.match(e.message, /ECONNREFUSED/);
  });

  test('several systems: refuses to guess, works with `system` set', async (t) => {
    if (!need(t)) return;
    const guess = fencerFor({ c1: host({ url: multi!.url }) });
    const e = await rejection(() => guess.powerOff('c1'));
    assert.equal(e.code, 'config');
    assert.match(e.message, /lists 2 systems .*set `system`/);
    assert.deepEqual(multi!.resets(), []);
    const named = fencerFor({ c1: host({ url: multi!.url, system: '/redfish/v1/Systems/2' }) });
    const r = await named.powerOff('c1');
    assert.equal(r.confirmed, 'off');
    assert.equal(multi!.power.get('2'), 'Off');
    assert.equal(multi!.power.get('1'), 'On');
  });
});

const haveFenceRedfish = available && haveCommand('fence_redfish');

describe('fence_redfish through the agent driver', { timeout: 120_000 }, () => {
  let cert: Cert | undefined;
  let bmc: RedfishBmc | undefined;
  before(async () => {
    if (!haveFenceRedfish) return;
    cert = await makeSelfSignedCert();
    bmc = await startRedfishBmc({ cert, user: 'root', password: PASSWORD });
  });
  after(async () => {
    await bmc?.close();
    cert?.remove();
  });
  const agentHost = (over: Record<string, unknown> = {}) => ({
    kind: 'agent',
    agent: 'fence_redfish',
    username: 'root',
    password: PASSWORD,
    options: { ip: '127.0.0.1', ipport: bmc!.port, ssl_insecure: true },
    ...over,
  });

  test('status, off, on', async (t) => {
    if (!requireComponent(t, 'fence_redfish (fence-agents) + openssl', haveFenceRedfish)) return;
    const f = fencerFor({ c1: agentHost() });
    assert.equal(await f.status('c1'), 'on');
    const off = await f.powerOff('c1');
    assert.equal(off.confirmed, 'off');
    assert.equal(bmc!.power.get('1'), 'Off');
    assert.match(off.evidence, /agent fence_redfish ip=127\.0\.0\.1:\d+: power off command accepted \(action=off exit 0: Success: Powered OFF\)/);
    const on = await f.powerOn('c1');
    assert.equal(on.confirmed, 'on');
    assert.deepEqual(bmc!.resets(), ['ForceOff', 'On']);
  });

  test('wrong password: fence_redfish crashes; we report a clear failure and keep running', async (t) => {
    if (!requireComponent(t, 'fence_redfish (fence-agents) + openssl', haveFenceRedfish)) return;
    const f = fencerFor({ c1: agentHost({ password: 'wrong-pw-4', retries: 0 }) });
    const e = await rejection(() => f.status('c1'));
    assert.equal(e.code, 'failed');
    assert.match(e.message, /action=status failed \(exit 1\): agent crashed: KeyError: 'Members'/);
  });
});
