// Fencing readiness against simulated BMCs: OpenIPMI's ipmi_sim through the real ipmitool, and the test Redfish
// service over HTTPS (test/labs/bmc/redfish-bmc.ts, a small Redfish implementation of ours: no third-party Redfish
// emulator is packaged in Debian). Up -> ok, stopped -> unreachable, wrong password -> auth_failed with no retry
// storm. Then the whole controller path: a host whose fencer answers and whose agent beats is protected with no
// warning, and `masakari protection` exits 0; with a refused password it is unprotected with the reason (exit 2).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createApiApp, startApiServer } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { fencingSection } from '../../src/core/config/sections/fencing.ts';
import { realEnv } from '../../src/core/env.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { FencingReadiness, MIN_RECHECK_MS } from '../../src/core/protection/readiness.ts';
import { ProtectionService } from '../../src/core/protection/service.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { createFencer } from '../../src/drivers/fence/registry.ts';
import { haveIpmiSim, startSimBmc, freeUdpPort, type SimBmc } from '../labs/bmc/sim-bmc.ts';
import { haveOpenssl, makeSelfSignedCert, startRedfishBmc, type Cert, type RedfishBmc } from '../labs/bmc/redfish-bmc.ts';
import { requireComponent } from '../support/components.ts';
import { runCli, waitFor } from '../support/cli.ts';

const PASSWORD = 'Prot-Bmc-S3cret';
const TIMING = { timeout_seconds: 10, retries: 2, retry_backoff_seconds: 0.05, confirm_timeout_seconds: 3, poll_interval_seconds: 0.1 };
const quietLog = pino({ level: 'silent' });

describe('fencing readiness: IPMI (ipmi_sim + ipmitool)', { timeout: 180_000 }, () => {
  const available = haveIpmiSim();
  let bmc: SimBmc | undefined;
  let deadPort = 0;
  before(async () => {
    if (!available) return;
    bmc = await startSimBmc({ host: 'c1', user: 'admin', password: PASSWORD });
    deadPort = await freeUdpPort();
  });
  after(async () => {
    await bmc?.stop();
  });

  const ipmi = (port: number, passwordEnv: string) => ({
    kind: 'ipmi',
    address: '127.0.0.1',
    port,
    username: 'admin',
    password_env: passwordEnv,
    session_timeout_seconds: 1,
    session_retries: 1,
  });

  test('BMC up: ok; wrong password: auth_failed after ONE query; nothing listening: unreachable; BMC stopped: unreachable', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    const fencer = createFencer(
      fencingSection.parse({
        defaults: TIMING,
        hosts: { c1: ipmi(bmc!.port, 'PW_RIGHT'), c2: ipmi(bmc!.port, 'PW_WRONG'), c3: { ...ipmi(deadPort, 'PW_RIGHT'), retries: 0 } },
      }),
      { processEnv: { PW_RIGHT: PASSWORD, PW_WRONG: 'not-the-password' }, logger: quietLog },
    );
    const readiness = new FencingReadiness({ fencer, intervalMs: 0, env: realEnv, log: quietLog });
    const commandsBefore = bmc!.commands().length;
    const r = await readiness.check();
    assert.deepEqual([...r.keys()].sort(), ['c1', 'c2', 'c3']);
    assert.equal(r.get('c1')!.state, 'ok');
    assert.equal(r.get('c1')!.detail, 'power on');
    assert.equal(r.get('c2')!.state, 'auth_failed', r.get('c2')!.detail ?? '');
    assert.equal(r.get('c3')!.state, 'unreachable', r.get('c3')!.detail ?? '');
    assert.ok(r.get('c1')!.checkedAt.getTime() <= Date.now());
    assert.equal(readiness.queriesSent('c2'), 1);
    assert.doesNotMatch(r.get('c2')!.detail!, new RegExp(PASSWORD));
    assert.equal(bmc!.commands().length, commandsBefore, 'never a power action');

    // Asked again at once: the refused credentials are not tried again within MIN_RECHECK_MS.
    const again = await readiness.check('c2');
    assert.equal(again.get('c2')!.state, 'auth_failed');
    assert.equal(readiness.queriesSent('c2'), 1, `no new login attempt within ${MIN_RECHECK_MS} ms`);

    await bmc!.stop();
    const down = await readiness.check('c1');
    assert.equal(down.get('c1')!.state, 'unreachable', down.get('c1')!.detail ?? '');
    bmc = undefined;
  });
});

describe('fencing readiness: Redfish (test Redfish service over HTTPS)', { timeout: 180_000 }, () => {
  const available = haveOpenssl();
  let cert: Cert | undefined;
  let bmc: RedfishBmc | undefined;
  before(async () => {
    if (!available) return;
    cert = await makeSelfSignedCert();
    bmc = await startRedfishBmc({ cert, user: 'root', password: PASSWORD });
  });
  after(async () => {
    await bmc?.close();
    cert?.remove();
  });
  const redfish = (password: string, url = bmc!.url) => ({
    kind: 'redfish',
    url,
    username: 'root',
    password,
    ca_file: cert!.certFile,
    system: '/redfish/v1/Systems/1',
  });

  test('ok, auth_failed without a retry storm (periodic back-off), unreachable once the service is gone', async (t) => {
    if (!requireComponent(t, 'openssl (to make the test certificate)', available)) return;
    const fencer = createFencer(fencingSection.parse({ defaults: TIMING, hosts: { good: redfish(PASSWORD), bad: redfish('wrong') } }), { logger: quietLog });
    const readiness = new FencingReadiness({ fencer, intervalMs: 200, env: realEnv, log: quietLog });
    const badRequests = () => bmc!.log.filter((l) => l.auth === 'bad').length;
    const goodRequests = () => bmc!.log.filter((l) => l.auth === 'ok').length;
    readiness.start();
    try {
      await waitFor(async () => (goodRequests() >= 12 ? true : undefined), 60_000, '12 periodic checks of the good host');
    } finally {
      await readiness.stop();
    }
    assert.equal(readiness.result('good')!.state, 'ok');
    assert.equal(readiness.result('bad')!.state, 'auth_failed');
    // Without back-off the bad host would have been asked as often as the good one (12+ times, x3 with retries).
    const bad = badRequests();
    assert.ok(bad >= 2 && bad <= 6, `${bad} logins with the wrong password while the good host was checked ${goodRequests()} times`);
    assert.equal(readiness.queriesSent('bad'), bad, 'one request per check: an authentication failure is never retried');
    assert.deepEqual(
      bmc!.log.filter((l) => l.method !== 'GET'),
      [],
      'status queries only: never a power action',
    );

    const url = bmc!.url;
    await bmc!.close();
    bmc = undefined;
    const gone = createFencer(fencingSection.parse({ defaults: { ...TIMING, retries: 0 }, hosts: { good: redfish(PASSWORD, url) } }), { logger: quietLog });
    const r = await new FencingReadiness({ fencer: gone, intervalMs: 0, env: realEnv, log: quietLog }).check('good');
    assert.equal(r.get('good')!.state, 'unreachable', r.get('good')!.detail ?? '');
  });
});

describe('protection with a real fencer: report and `masakari protection`', { timeout: 180_000 }, () => {
  const available = haveIpmiSim();
  let bmc: SimBmc | undefined;
  before(async () => {
    if (available) bmc = await startSimBmc({ host: 'c1', user: 'admin', password: PASSWORD });
  });
  after(async () => {
    await bmc?.stop();
  });

  test('fencer ok + agent beating: protected without warnings, exit 0; password refused: exit 2 with the reason; on-demand check over the API', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    const hostCfg = (env: string) => ({
      kind: 'ipmi',
      address: '127.0.0.1',
      port: bmc!.port,
      username: 'admin',
      password_env: env,
      session_timeout_seconds: 1,
      session_retries: 1,
    });
    const processEnv: Record<string, string> = { PROT_PW: PASSWORD };
    const config = parseConfig({ fencing: { defaults: TIMING, hosts: { c1: hostCfg('PROT_PW') } } }, 'test');
    const store = openSqliteStore({ path: ':memory:' });
    const fencer = createFencer(config.fencing, { processEnv, logger: quietLog });
    const readiness = new FencingReadiness({ fencer, intervalMs: 0, env: realEnv, log: quietLog });
    const service = new ProtectionService({ store, config, env: realEnv, log: quietLog, readiness });
    const app = createApiApp({ store, config, log: quietLog, hostCatalog: acceptAllHostCatalog, protection: { service, readiness } });
    const api = await startApiServer(app, '127.0.0.1:0');
    const base = `http://127.0.0.1:${api.port}/v1`;
    const post = async (path: string, body?: unknown) => {
      const r = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: r.status, body: (await r.text()) || null };
    };
    try {
      const seg = JSON.parse((await post('/segments', { segment: { name: 'seg-f', recovery_method: 'auto', service_type: 'COMPUTE' } })).body!) as {
        segment: { uuid: string };
      };
      assert.equal((await post(`/segments/${seg.segment.uuid}/hosts`, { host: { name: 'c1', type: 'COMPUTE', control_attributes: 'SSH' } })).status, 201);
      const hb = {
        host: 'c1',
        version: 'test',
        interval_seconds: 60,
        sent_at: new Date().toISOString(),
        monitors: {},
        outbox: { pending: 0, rejected: 0, oldest_pending_age_seconds: null },
      };
      assert.equal((await post('/x-masakari/heartbeats', { heartbeat: hb })).status, 204);

      let cli = await runCli(['protection', '--endpoint', base], { env: { MASAKARI_CONFIG: '' } });
      assert.equal(cli.code, 1, 'not checked yet: a warning');
      assert.match(cli.stdout, /! fencer not checked yet/);

      const check = await post('/x-masakari/fencing-readiness/check?host=c1');
      assert.equal(check.status, 200, check.body ?? '');
      const results = (JSON.parse(check.body!) as { results: { host: string; state: string; checked_at: string }[] }).results;
      assert.deepEqual(
        results.map((r) => [r.host, r.state]),
        [['c1', 'ok']],
      );
      assert.equal((await post('/x-masakari/fencing-readiness/check?host=nope')).status, 404);

      cli = await runCli(['protection', '--endpoint', base, '--json'], { env: { MASAKARI_CONFIG: '' } });
      assert.equal(cli.code, 0, cli.stdout + cli.stderr);
      const report = JSON.parse(cli.stdout) as { hosts: { protected: boolean; warnings: string[]; fencing: { state: string; checked_at: string } }[] };
      assert.equal(report.hosts[0]!.protected, true);
      assert.deepEqual(report.hosts[0]!.warnings, []);
      assert.equal(report.hosts[0]!.fencing.state, 'ok');
      assert.equal(report.hosts[0]!.fencing.checked_at, results[0]!.checked_at);

      // The BMC password was changed behind our back.
      processEnv.PROT_PW = 'changed-on-the-bmc';
      await post('/x-masakari/fencing-readiness/check');
      cli = await runCli(['protection', '--endpoint', base], { env: { MASAKARI_CONFIG: '' } });
      assert.equal(cli.code, 2, cli.stdout + cli.stderr);
      assert.match(cli.stdout, /^seg-f\s+c1\s+NO\s+ok\s+auth_failed$/m);
      assert.match(cli.stdout, /- BMC auth failed at \d{4}-/);
    } finally {
      await api.close();
      await store.close();
    }
  });
});
