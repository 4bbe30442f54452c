// The Nova driver and the Keystone session against a real Keystone + Nova (test/labs/openstack): Nova 26 (Zed)
// with three compute hosts on its fake virt driver, so servers really boot, stop, start and evacuate.
// The lab starts once for this whole file (40-100 s) and is stopped in after(), whatever happened.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify as stringifyYaml } from 'yaml';
import { after, before, describe, test } from 'node:test';
import { realEnv, type Env } from '../../../src/core/env.ts';
import { silentLogger, type Logger } from '../../../src/core/log.ts';
import { ComputeDriverError, type ServerInfo } from '../../../src/core/ports/compute.ts';
import { createNovaDriver } from '../../../src/drivers/compute/nova/index.ts';
import type { NovaComputeDriver } from '../../../src/drivers/compute/nova/driver.ts';
import { createOpenStackClient, type OpenStackClient } from '../../../src/drivers/openstack/client.ts';
import { OpenStackError } from '../../../src/drivers/openstack/errors.ts';
import { fetchHandler, type Handler } from '../../../src/drivers/openstack/http.ts';
import { startCli, waitFor as cliWaitFor } from '../../support/cli.ts';
import { inCI, requireComponent } from '../../support/components.ts';
import { labUnavailableReason, startLab, type OpenStackLab } from '../../labs/openstack/lab.ts';
import { haveIpmiSim, startSimBmc, type SimBmc } from '../../labs/bmc/sim-bmc.ts';
import { computeDriverContract } from '../compute-contract.ts';
import { bootServer, call, createAggregate, waitFor } from './helpers.ts';

const unavailable = labUnavailableReason();

test('OpenStack lab components are installed', (t) => {
  requireComponent(t, `OpenStack lab (${unavailable})`, unavailable === null);
});

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<Error> {
  let err: unknown;
  await p.then(
    () => undefined,
    (e: unknown) => (err = e),
  );
  assert.ok(err instanceof Error, `expected a rejection with code ${code}`);
  assert.equal((err as { code?: string }).code, code, err.message);
  return err;
}

// Locally a missing lab leaves the suite out (the test above reports it); under CI the suite always runs, so a missing
// lab fails loudly, in that test and in the suite's lab start.
if (inCI || unavailable === null)
  describe('Nova driver against a real Keystone + Nova', { timeout: 30 * 60_000 }, () => {
    let lab: OpenStackLab;
    let admin: OpenStackClient;
    let driver: NovaComputeDriver;
    const servers: string[] = [];
    let other = '';
    // fake-host-1 fails in the driver tests, fake-host-4 in the contract suite, fake-host-3 in the controller test.
    const [h1, h2, h3, h4] = ['fake-host-1', 'fake-host-2', 'fake-host-3', 'fake-host-4'];

    // Masakari's own log (driver calls with Nova request ids, engine progress) goes beside the lab's logs.
    let log: Logger = silentLogger;
    const server = (id: string) => driver.getServer(id);
    const waitServer = (id: string, what: string, ok: (s: ServerInfo) => boolean) => waitFor(`${id} ${what}`, () => server(id), ok);

    before(async () => {
      lab = await startLab({ computes: 4 });
      log = pino({ level: 'debug' }, pino.destination({ dest: join(lab.dir, 'logs', 'masakari.log'), sync: true }));
      admin = createOpenStackClient(lab.config());
      driver = createNovaDriver(lab.config({ nova: { page_size: 2 } }), { logger: log }).driver;
    });
    after(() => lab?.stop());

    describe('Keystone session', () => {
      test('password auth: a project-scoped token whose catalog has the compute endpoint (region, interface)', async () => {
        const token = await admin.session.getToken();
        assert.match(token.id, /^\S{20,}$/);
        assert.ok(token.expiresAtMs > Date.now());
        assert.equal(await admin.session.endpoint('compute', { interface: 'public', region: 'RegionOne' }), lab.novaUrl);
        assert.equal(await admin.session.endpoint('compute', { interface: 'internal', region: 'RegionOne' }), lab.novaUrl);
      });

      test('a wrong password is an auth error, a missing region a catalog error', async () => {
        const bad = createOpenStackClient(lab.config({ password: 'not-the-password' }));
        await rejectsWithCode(bad.session.getToken(), 'auth');
        const { driver: d } = createNovaDriver(lab.config({ password: 'not-the-password' }));
        await rejectsWithCode(d.hostExists(h1), 'unknown');
        const elsewhere = createOpenStackClient(lab.config({ region_name: 'RegionTwo' }));
        const e = await rejectsWithCode(elsewhere.session.endpoint('compute', { interface: 'public', region: 'RegionTwo' }), 'catalog');
        assert.match(e.message, /RegionTwo/);
      });

      test('application credential auth, by id and by name', async () => {
        const token = await admin.session.getToken();
        const body = (await call(
          admin,
          {
            method: 'POST',
            url: `${lab.authUrl}/users/${token.userId}/application_credentials`,
            body: { application_credential: { name: 'masakari-test' } },
          },
          201,
        )) as { application_credential: { id: string; secret: string } };
        const cred = body.application_credential;
        const byId = createNovaDriver(
          lab.config({
            auth_type: 'v3applicationcredential',
            password: null,
            project_name: null,
            application_credential_id: cred.id,
            application_credential_secret: cred.secret,
          }),
        );
        assert.equal(await byId.driver.hostExists(h1), true);
        assert.equal((await byId.client.session.getToken()).projectId, token.projectId);
        const byName = createNovaDriver(
          lab.config({
            auth_type: 'v3applicationcredential',
            password: null,
            project_name: null,
            application_credential_name: 'masakari-test',
            application_credential_secret: cred.secret,
          }),
        );
        assert.equal(await byName.driver.hostExists(h2), true);
        const wrong = createNovaDriver(
          lab.config({
            auth_type: 'v3applicationcredential',
            password: null,
            project_name: null,
            application_credential_id: cred.id,
            application_credential_secret: 'wrong',
          }),
        );
        await rejectsWithCode(wrong.client.session.getToken(), 'auth');
      });

      test('a revoked token is replaced when Nova answers 401', async () => {
        const { driver: d, client } = createNovaDriver(lab.config());
        assert.equal(await d.hostExists(h1), true);
        const old = (await client.session.getToken()).id;
        const adminToken = (await admin.session.getToken()).id;
        await call(
          admin,
          { method: 'DELETE', url: `${lab.authUrl}/auth/tokens`, auth: false, headers: { 'X-Auth-Token': adminToken, 'X-Subject-Token': old } },
          204,
        );
        // Nova must now refuse the old token (the lab's services keep no token cache).
        const res = await fetchHandler({ method: 'GET', url: `${lab.novaUrl}/os-services`, headers: { 'X-Auth-Token': old } });
        assert.equal(res.status, 401);
        assert.equal(await d.hostExists(h2), true);
        assert.notEqual((await client.session.getToken()).id, old);
      });

      test('the token is renewed before it expires', async () => {
        let skewMs = 0;
        const env: Env = { ...realEnv, nowMs: () => Date.now() + skewMs, now: () => new Date(Date.now() + skewMs) };
        const { driver: d, client } = createNovaDriver(lab.config({ token_refresh_margin: 120 }), { env });
        await d.hostExists(h1);
        const first = await client.session.getToken();
        assert.equal((await client.session.getToken()).id, first.id, 'a fresh token is reused');
        // 60 s before expiry: inside the 120 s margin.
        skewMs = first.expiresAtMs - 60_000 - Date.now();
        assert.equal(await d.hostExists(h1), true);
        assert.notEqual((await client.session.getToken()).id, first.id);
      });
    });

    describe('microversions', () => {
      test('negotiates min(configured maximum, what Nova offers) and sends it', async () => {
        const { driver: d, client } = createNovaDriver(lab.config());
        await d.hostExists(h1);
        assert.equal(client.compute.version(), '2.93', 'Zed offers 2.93, the default maximum');
        const older = createOpenStackClient(lab.config({ nova: { max_microversion: '2.60' } }));
        const res = await older.request({ method: 'GET', service: 'compute', url: '/os-services' });
        assert.equal(older.compute.version(), '2.60');
        assert.equal(res.headers.get('openstack-api-version'), 'compute 2.60');
      });
    });

    describe('driver operations', () => {
      before(async () => {
        for (let i = 0; i < 5; i++) servers.push(await bootServer(admin, lab, `vm-${i}`, h1, i % 2 === 0 ? { HA_Enabled: 'True' } : {}));
        other = await bootServer(admin, lab, 'vm-other', h2);
        for (const id of [...servers, other]) await waitServer(id, 'active', (s) => s.vmState === 'active' && s.taskState === null);
      });

      test('hostExists asks os-services for a nova-compute service', async () => {
        for (const h of lab.hosts) assert.equal(await driver.hostExists(h), true, h);
        assert.equal(await driver.hostExists('no-such-host'), false);
        assert.equal(await driver.hostExists('fake-host'), false, 'no prefix match');
        assert.equal(await driver.hostExists(''), false);
      });

      test('listServersOnHost pages through every server of the host (page size 2) and only that host', async () => {
        const list = await driver.listServersOnHost(h1);
        assert.deepEqual(list.map((s) => s.id).sort(), [...servers].sort());
        assert.ok(list.every((s) => s.host === h1 && s.vmState === 'active'));
        const onH2 = await driver.listServersOnHost(h2);
        assert.deepEqual(
          onH2.map((s) => s.id),
          [other],
        );
        assert.deepEqual(await driver.listServersOnHost(h3), []);
        assert.deepEqual(await driver.listServersOnHost(h4), []);
      });

      test('getServer: state, host, power state, metadata; an unknown id is not_found', async () => {
        const s = await driver.getServer(servers[0]!);
        assert.equal(s.name, 'vm-0');
        assert.equal(s.host, h1);
        assert.equal(s.vmState, 'active');
        assert.equal(s.powerState, 1);
        assert.equal(s.taskState, null);
        assert.equal(s.locked, false);
        assert.deepEqual(s.metadata, { HA_Enabled: 'True' });
        assert.deepEqual((await driver.getServer(servers[1]!)).metadata, {});
        await rejectsWithCode(driver.getServer('00000000-0000-4000-8000-000000000000'), 'not_found');
      });

      test('stop and start; stopping a stopped server is the conflict Nova reports', async () => {
        const id = servers[1]!;
        await driver.stopServer(id);
        const stopped = await waitServer(id, 'stopped', (s) => s.vmState === 'stopped' && s.taskState === null);
        assert.equal(stopped.powerState, 4);
        const e = await rejectsWithCode(driver.stopServer(id), 'conflict');
        assert.match(e.message, /HTTP 409/);
        await driver.startServer(id);
        await waitServer(id, 'active again', (s) => s.vmState === 'active' && s.taskState === null);
        await rejectsWithCode(driver.startServer(id), 'conflict');
      });

      test('resetServerState to error and back to active', async () => {
        const id = servers[2]!;
        await driver.resetServerState(id, 'error');
        assert.equal((await server(id)).vmState, 'error');
        await driver.resetServerState(id, 'active');
        assert.equal((await server(id)).vmState, 'active');
        await rejectsWithCode(driver.resetServerState(id, 'stopped' as 'active'), 'bad_request');
      });

      test('lock and unlock', async () => {
        const id = servers[3]!;
        await driver.lockServer(id);
        assert.equal((await server(id)).locked, true);
        await driver.unlockServer(id);
        assert.equal((await server(id)).locked, false);
        await rejectsWithCode(driver.lockServer('00000000-0000-4000-8000-000000000000'), 'not_found');
      });

      test('compute service: disable with a reason, enable, force down and back', async () => {
        const svc = await driver.getComputeService(h3);
        assert.equal(svc.host, h3);
        assert.equal(svc.binary, 'nova-compute');
        assert.match(svc.id, /^[0-9a-f-]{36}$/, 'UUID ids (2.53+)');
        await driver.disableComputeService(h3, 'Masakari test: disabled');
        let now = await driver.getComputeService(h3);
        assert.equal(now.status, 'disabled');
        assert.equal(now.disabledReason, 'Masakari test: disabled');
        await driver.enableComputeService(h3);
        now = await driver.getComputeService(h3);
        assert.equal(now.status, 'enabled');
        assert.equal(now.disabledReason, null);
        await driver.setComputeServiceForcedDown(h3, true);
        now = await driver.getComputeService(h3);
        assert.equal(now.forcedDown, true);
        assert.equal(now.state, 'down');
        await driver.setComputeServiceForcedDown(h3, false);
        now = await driver.getComputeService(h3);
        assert.equal(now.forcedDown, false);
        await waitFor(
          'fake-host-3 up again',
          () => driver.getComputeService(h3),
          (s) => s.state === 'up',
        );
        await rejectsWithCode(driver.getComputeService('no-such-host'), 'not_found');
        await rejectsWithCode(driver.disableComputeService('no-such-host', 'x'), 'not_found');
      });

      test('aggregates: list, add a host; adding it twice is a conflict, an unknown aggregate not_found', async () => {
        const agg = await createAggregate(admin, 'masakari-segment-1');
        await driver.addHostToAggregate(agg, h1);
        await driver.addHostToAggregate(agg, h2);
        const found = (await driver.listAggregates()).find((a) => a.id === agg);
        assert.deepEqual(found && { name: found.name, hosts: [...found.hosts].sort() }, { name: 'masakari-segment-1', hosts: [h1, h2] });
        await rejectsWithCode(driver.addHostToAggregate(agg, h1), 'conflict');
        await rejectsWithCode(driver.addHostToAggregate('999999', h1), 'not_found');
        await rejectsWithCode(driver.addHostToAggregate(agg, 'no-such-host'), 'not_found');
      });

      test('evacuating from a host whose compute service is up is a conflict (Nova: still in use)', async () => {
        const e = await rejectsWithCode(driver.evacuateServer(servers[0]!), 'conflict');
        assert.match(e.message, /still in use/);
      });

      test('host failure: nova-compute killed, forced down and disabled, every server evacuated (target host and scheduler)', async () => {
        lab.killCompute(1);
        // Masakari's order: force down first (evacuation needs the source down; disabling a service Nova still
        // believes up blocks on an RPC to the dead compute), then disable with the reason.
        await driver.setComputeServiceForcedDown(h1, true);
        await driver.disableComputeService(h1, 'Masakari detected host failed.');
        const svc = await driver.getComputeService(h1);
        assert.deepEqual([svc.state, svc.status, svc.forcedDown], ['down', 'disabled', true]);

        const victims = await driver.listServersOnHost(h1);
        assert.deepEqual(victims.map((s) => s.id).sort(), [...servers].sort());
        const [first, ...rest] = victims.map((s) => s.id);
        await driver.evacuateServer(first!, h3);
        await Promise.all(rest.map((id) => driver.evacuateServer(id)));
        for (const id of victims.map((s) => s.id)) {
          const s = await waitServer(id, 'evacuated', (x) => x.host !== h1 && x.vmState === 'active' && x.taskState === null);
          assert.ok(s.host !== null && lab.hosts.includes(s.host), `${id} on ${s.host}`);
        }
        assert.equal((await server(first!)).host, h3, 'the target host was honoured');
        assert.deepEqual(await driver.listServersOnHost(h1), []);
        assert.deepEqual((await server(servers[0]!)).metadata, { HA_Enabled: 'True' }, 'metadata survives the rebuild');

        // The repair starts now and is checked at the end of the file: a restarting nova-compute takes a while.
        lab.startCompute(1);
      });
    });

    describe('retries and failures on the wire', () => {
      let proxy: Server;
      let proxyUrl = '';
      const seen: { method: string; status: number }[] = [];
      let failNext = 0;
      let failStatus = 503;

      before(async () => {
        // A tiny reverse proxy in front of the real Nova that can answer the next N requests with an error.
        const nova = new URL(lab.novaUrl);
        const forward = async (req: IncomingMessage, res: ServerResponse) => {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          if (failNext > 0) {
            failNext--;
            seen.push({ method: req.method!, status: failStatus });
            res
              .writeHead(failStatus, { 'Content-Type': 'application/json' })
              .end(JSON.stringify({ computeFault: { code: failStatus, message: 'proxy says no' } }));
            return;
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
          const up = await fetch(`${nova.origin}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
          const body = Buffer.from(await up.arrayBuffer());
          seen.push({ method: req.method!, status: up.status });
          const out: Record<string, string> = {};
          up.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
          });
          res.writeHead(up.status, out).end(body);
        };
        // node:http does not await its handler: a failed forward resets the client's connection (the test sees it)
        // instead of becoming an unhandled rejection.
        proxy = createServer((req, res) => void forward(req, res).catch((e: unknown) => res.destroy(e instanceof Error ? e : new Error(String(e)))));
        await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
        const addr = proxy.address();
        proxyUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v2.1`;
      });
      after(() => new Promise<void>((r) => proxy.close(() => r())));

      test('503s from the compute endpoint are retried until Nova answers', async () => {
        const { driver: d } = createNovaDriver(lab.config({ compute_endpoint_override: proxyUrl, retries: 3 }));
        seen.length = 0;
        failNext = 2;
        failStatus = 503;
        assert.equal(await d.hostExists(h2), true);
        assert.deepEqual(seen.map((s) => s.status).slice(0, 3), [503, 503, 200]);
      });

      test('a 500 on a POST action is not retried (it may have run); on a GET it is', async () => {
        const { driver: d } = createNovaDriver(lab.config({ compute_endpoint_override: proxyUrl, retries: 3 }));
        await d.hostExists(h2); // negotiated and authenticated before counting
        seen.length = 0;
        failNext = 1;
        failStatus = 500;
        await rejectsWithCode(d.lockServer(other), 'unavailable');
        assert.deepEqual(seen, [{ method: 'POST', status: 500 }]);
        seen.length = 0;
        failNext = 1;
        assert.equal((await d.getServer(other)).id, other);
        assert.deepEqual(
          seen.map((s) => s.status),
          [500, 200],
        );
      });

      test('connection refused is retried, then reported as unavailable', async () => {
        const closed = createServer();
        await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
        const port = (closed.address() as { port: number }).port;
        await new Promise<void>((r) => closed.close(() => r()));
        let attempts = 0;
        const counting: Handler = (req) => {
          if (req.url.includes(`:${port}/`)) attempts++;
          return fetchHandler(req);
        };
        const { driver: d } = createNovaDriver(lab.config({ compute_endpoint_override: `http://127.0.0.1:${port}/v2.1`, retries: 2 }), {
          dispatcher: counting,
        });
        const e = await rejectsWithCode(d.hostExists(h1), 'unavailable');
        assert.match(e.message, /ECONNREFUSED/);
        assert.equal(attempts, 3, 'one attempt and two retries');
      });

      test('errors carry a stable code and Nova request ids are kept', async () => {
        const res = await admin.request({ method: 'GET', service: 'compute', url: '/servers/00000000-0000-4000-8000-000000000000' });
        assert.equal(res.status, 404);
        assert.match(res.requestId ?? '', /^req-[0-9a-f-]{36}$/);
        const e = await rejectsWithCode(driver.getServer('00000000-0000-4000-8000-000000000000'), 'not_found');
        assert.ok(e instanceof ComputeDriverError);
        assert.match(e.message, /request req-[0-9a-f-]{36}/);
        assert.ok(!(e instanceof OpenStackError));
      });
    });

    describe('repair', () => {
      test('the failed host comes back: un-forced (refused until its compute cleaned up) and enabled', async () => {
        // Nova refuses to un-force a host while evacuation migrations from it are still "done": the restarted
        // nova-compute moves them to "completed" when it finds the evacuated instances gone. So it is retried.
        await waitFor(
          'un-force fake-host-1',
          async () => {
            await driver.setComputeServiceForcedDown(h1, false);
            return true;
          },
          (ok) => ok,
          180_000,
          2_000,
        );
        await driver.enableComputeService(h1);
        const back = await waitFor(
          'fake-host-1 up',
          () => driver.getComputeService(h1),
          (s) => s.state === 'up',
          120_000,
        );
        assert.deepEqual([back.status, back.forcedDown, back.disabledReason], ['enabled', false, null]);
      });
    });

    // The engine's shared ComputeDriver contract (test/drivers/compute-contract.ts), on fake-host-4 -> fake-host-3.
    computeDriverContract('nova (OpenStack lab)', async () => {
      const id = await bootServer(admin, lab, 'contract-vm', h4, { HA_Enabled: 'True' });
      await waitServer(id, 'active on fake-host-4', (s) => s.vmState === 'active' && s.taskState === null && s.host === h4);
      const agg = await createAggregate(admin, 'contract-az');
      await driver.addHostToAggregate(agg, h4);
      return {
        driver,
        hostA: h4,
        hostB: h3,
        serverId: id,
        failHost: async (h) => lab.killCompute(Number(h.slice('fake-host-'.length))),
        aggregates: true,
        settleMs: 120_000,
        cleanup: async () => {},
      };
    });

    describe('the masakari controller process with the Nova driver', () => {
      // The whole product: `masakari --role=controller` (API + engine) configured for this lab, driven over its
      // HTTP API as masakari-monitors would: the host is validated against Nova, the failed host's servers move.
      let child: ReturnType<typeof startCli> | undefined;
      let bmc: SimBmc | undefined;
      after(async () => {
        child?.kill('SIGKILL');
        await bmc?.stop();
      });

      test('keystone auth against the real Keystone; segment and hosts validated against Nova; COMPUTE_HOST STOPPED for fake-host-3: fenced through its BMC (ipmi_sim), then evacuated', async (t) => {
        if (!requireComponent(t, 'ipmi_sim + ipmitool (Debian openipmi, ipmitool)', haveIpmiSim())) return;
        // fake-host-3's BMC: a simulated one, driven by the real ipmitool. Fencing stays required (the default).
        bmc = await startSimBmc({ host: h3, user: 'admin', password: 'bmc-secret' });
        // Alive now: fake-host-1 (repaired), fake-host-2 and fake-host-3. fake-host-3 fails.
        const victims: string[] = [];
        for (let i = 0; i < 2; i++) victims.push(await bootServer(admin, lab, `ctl-vm-${i}`, h3, { HA_Enabled: 'True' }));
        for (const id of victims) await waitServer(id, 'active on fake-host-3', (s) => s.vmState === 'active' && s.taskState === null && s.host === h3);

        const port = await new Promise<number>((resolve) => {
          const srv = createTcpServer().listen(0, '127.0.0.1', () => {
            const p = (srv.address() as { port: number }).port;
            srv.close(() => resolve(p));
          });
        });
        const { auth_url, username, password, project_name, region_name, interface: itf } = lab.config();
        const file = join(lab.dir, 'masakari-controller.yaml');
        writeFileSync(
          file,
          stringifyYaml({
            controller: { compute_driver: 'nova' },
            openstack: { auth_url, username, password, project_name, region_name, interface: itf },
            fencing: {
              hosts: {
                [h3]: { kind: 'ipmi', address: '127.0.0.1', port: bmc.port, username: 'admin', password_env: 'NOVA_LAB_BMC_PW', confirm_timeout_seconds: 20 },
              },
            },
            engine: { verify_interval: 1, wait_period_after_service_update: 120, wait_period_after_evacuation: 300 },
            database: { url: `sqlite:${join(lab.dir, 'masakari.sqlite')}`, auto_migrate: true },
            // Keystone auth against the lab's real Keystone: the controller validates each user token with its own
            // service token (here the lab's admin user doubles as the service user).
            api: {
              listen: `127.0.0.1:${port}`,
              auth_strategy: 'keystone',
              keystone: { auth_url, username, password, project_name },
            },
          }),
        );
        child = startCli(['--role=controller', '--config', file], { NOVA_LAB_BMC_PW: 'bmc-secret' });
        const base = `http://127.0.0.1:${port}/v1`;
        await cliWaitFor(async () => ((await fetch(`http://127.0.0.1:${port}/`)).ok ? true : undefined), 120_000, `controller on ${port}\n${child.output()}`);
        // A user token from the real Keystone (admin role: Masakari's default policy is rule:admin_api).
        const tokenRes = await fetch(`${String(auth_url).replace(/\/+$/, '')}/auth/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            auth: {
              identity: { methods: ['password'], password: { user: { name: username, domain: { name: 'Default' }, password } } },
              scope: { project: { name: project_name, domain: { name: 'Default' } } },
            },
          }),
        });
        assert.equal(tokenRes.status, 201, await tokenRes.text());
        const token = tokenRes.headers.get('x-subject-token')!;
        const noToken = await fetch(`${base}/segments`);
        assert.equal(noToken.status, 401, 'no token: 401 from the keystone middleware');
        assert.match(noToken.headers.get('www-authenticate') ?? '', /^Keystone uri=/);
        const badToken = await fetch(`${base}/segments`, { headers: { 'x-auth-token': 'gAAAAA-not-a-token' } });
        assert.equal(badToken.status, 401, 'a token Keystone does not know: 401');
        // A valid token without the admin role: authenticated, but Masakari's default policy (rule:admin_api) refuses.
        const ks = String(auth_url).replace(/\/+$/, '');
        const adminJson = async (method: string, path: string, body?: unknown) => {
          const r = await fetch(ks + path, {
            method,
            headers: { 'content-type': 'application/json', 'x-auth-token': token },
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
          assert.ok(r.ok, `${method} ${path}: ${r.status} ${await r.clone().text()}`);
          return r.status === 204 ? {} : ((await r.json()) as Record<string, any>);
        };
        const projectId = String((await adminJson('GET', `/projects?name=${encodeURIComponent(String(project_name))}`)).projects[0].id);
        const memberRole = (await adminJson('GET', '/roles?name=member')).roles[0] ?? (await adminJson('POST', '/roles', { role: { name: 'member' } })).role;
        const memberName = `masakari-member-${process.pid}`;
        const member = (await adminJson('POST', '/users', { user: { name: memberName, password: 'member-pw', domain_id: 'default' } })).user;
        await adminJson('PUT', `/projects/${projectId}/users/${member.id}/roles/${memberRole.id}`);
        const memberTokenRes = await fetch(`${ks}/auth/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            auth: {
              identity: { methods: ['password'], password: { user: { name: memberName, domain: { name: 'Default' }, password: 'member-pw' } } },
              scope: { project: { id: projectId } },
            },
          }),
        });
        assert.equal(memberTokenRes.status, 201, await memberTokenRes.text());
        const memberToken = memberTokenRes.headers.get('x-subject-token')!;
        const forbidden = await fetch(`${base}/segments`, { headers: { 'x-auth-token': memberToken } });
        assert.equal(forbidden.status, 403, 'a member token: 403 from the policy');
        assert.deepEqual(await forbidden.json(), { forbidden: { code: 403, message: "Policy doesn't allow os_masakari_api:segments:index to be performed." } });
        const forbiddenPost = await fetch(`${base}/notifications`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-auth-token': memberToken },
          body: JSON.stringify({
            notification: {
              type: 'VM',
              hostname: h1,
              generated_time: new Date().toISOString(),
              payload: { event: 'LIFECYCLE', instance_uuid: 'x', vir_domain_event: 'STOPPED_FAILED' },
            },
          }),
        });
        assert.equal(forbiddenPost.status, 403, 'members cannot send notifications either');
        const post = async (path: string, body: unknown) => {
          const r = await fetch(base + path, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-auth-token': token },
            body: JSON.stringify(body),
          });
          return { status: r.status, body: (await r.json()) as Record<string, Record<string, unknown>> };
        };
        const seg = await post('/segments', { segment: { name: 'lab-segment', recovery_method: 'auto', service_type: 'COMPUTE' } });
        assert.equal(seg.status, 201, JSON.stringify(seg.body));
        const segUuid = String(seg.body.segment!.uuid);
        for (const h of [h1, h2, h3]) {
          const r = await post(`/segments/${segUuid}/hosts`, { host: { name: h, type: 'COMPUTE', control_attributes: 'SSH' } });
          assert.equal(r.status, 201, JSON.stringify(r.body));
        }
        // Host validation asks Nova's os-services (driver.hostExists): an unknown name is refused.
        const unknown = await post(`/segments/${segUuid}/hosts`, { host: { name: 'not-a-nova-host', type: 'COMPUTE', control_attributes: 'SSH' } });
        assert.equal(unknown.status, 400, JSON.stringify(unknown.body));

        lab.killCompute(3);
        const n = await post('/notifications', {
          notification: {
            type: 'COMPUTE_HOST',
            hostname: h3,
            generated_time: new Date().toISOString(),
            payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
          },
        });
        assert.equal(n.status, 202, JSON.stringify(n.body));
        const uuid = String(n.body.notification!.notification_uuid);
        const show = async () => {
          // 1.1 adds recovery_workflow_details: every task's progress messages, the first thing to read on failure.
          const r = await fetch(`${base}/notifications/${uuid}`, { headers: { 'OpenStack-API-Version': 'instance-ha 1.1', 'x-auth-token': token } });
          return ((await r.json()) as { notification: { status: string; recovery_workflow_details?: unknown } }).notification;
        };
        const final = await cliWaitFor(
          async () => {
            const nn = await show();
            return ['finished', 'error', 'failed', 'ignored'].includes(nn.status) ? nn : undefined;
          },
          600_000,
          `notification ${uuid} to end\n${child.output().slice(-3000)}`,
        );
        assert.equal(final.status, 'finished', `${JSON.stringify(final.recovery_workflow_details)}\n${child.output().slice(-3000)}`);
        for (const id of victims) {
          const sv = await server(id);
          assert.ok(sv.host === h1 || sv.host === h2, `${id} moved to a live host (${sv.host})`);
          assert.deepEqual([sv.vmState, sv.locked], ['active', false], id);
        }
        assert.equal((await driver.getComputeService(h3)).status, 'disabled');
        // Fenced before anything moved: the BMC was told to power off, and the progress says so.
        assert.equal(bmc.power(), 'off');
        assert.ok(bmc.commands().includes('power=0'), bmc.commands().join(', '));
        assert.match(JSON.stringify(final.recovery_workflow_details), /is fenced/);
      });
    });
  });
