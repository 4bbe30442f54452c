// The protection report end to end inside one process: the real API app over a real SQLite store, heartbeats
// POSTed as an agent sends them, the report read back through GET /v1/x-masakari/protection. The controller's
// clock is a test clock (so "silent for longer than agent_timeout" needs no waiting). The last test runs the real
// CLI (`masakari protection`) against the app served on a loopback port, for its exit codes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createApiApp, startApiServer, type ApiApp, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import type { ConfigInput } from '../../src/core/config/schema.ts';
import { realEnv, type Env } from '../../src/core/env.ts';
import { EventBus, type BusEvent } from '../../src/core/observe/bus.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import type { AgentHeartbeat } from '../../src/core/ports/heartbeat.ts';
import { ProtectionService, type ProtectionReport } from '../../src/core/protection/service.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { runCli } from '../support/cli.ts';

/** A controller clock the test moves. */
function testClock(startMs: number): Env & { advance(ms: number): void } {
  let t = startMs;
  return { ...realEnv, now: () => new Date(t), nowMs: () => t, advance: (ms) => void (t += ms) };
}

function heartbeat(host: string, over: Partial<AgentHeartbeat> = {}): AgentHeartbeat {
  return {
    host,
    version: '0.1.0',
    interval_seconds: 10,
    sent_at: new Date().toISOString(),
    monitors: { instance: { libvirt: { connected: true, since: '2026-01-01T00:00:00.000Z', reason: null } } },
    outbox: { pending: 0, rejected: 0, oldest_pending_age_seconds: null },
    ...over,
  };
}

interface Harness {
  store: Store;
  app: ApiApp;
  clock: ReturnType<typeof testClock>;
  logs: Record<string, unknown>[];
  events: BusEvent[];
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  report(segment?: string): Promise<ProtectionReport>;
  host(r: ProtectionReport, name: string): ProtectionReport['hosts'][number];
}

function harness(config: ConfigInput): Harness {
  const store = openSqliteStore({ path: ':memory:' });
  const clock = testClock(Date.now());
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'info', base: undefined }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  const bus = new EventBus();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const cfg = parseConfig(config, 'test');
  const service = new ProtectionService({ store, config: cfg, env: clock, log, bus });
  const app = createApiApp({ store, config: cfg, log, hostCatalog: acceptAllHostCatalog, env: clock, protection: { service } });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { 'content-type': 'application/json', 'OpenStack-API-Version': 'instance-ha 1.2' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    store,
    app,
    clock,
    logs,
    events,
    call: call,
    report: async (segment) => {
      const r = await call('GET', `/v1/x-masakari/protection${segment ? `?segment=${encodeURIComponent(segment)}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as ProtectionReport;
    },
    host: (r, name) => r.hosts.find((h) => h.name === name) ?? assert.fail(`no host ${name} in ${JSON.stringify(r)}`),
  };
}

async function seed(h: Harness, segment: string, hosts: string[]): Promise<string> {
  const s = await h.call('POST', '/v1/segments', { segment: { name: segment, recovery_method: 'auto', service_type: 'COMPUTE' } });
  assert.equal(s.status, 201);
  for (const name of hosts) {
    const r = await h.call('POST', `/v1/segments/${s.body.segment.uuid}/hosts`, { host: { name, type: 'COMPUTE', control_attributes: 'SSH' } });
    assert.equal(r.status, 201);
  }
  return s.body.segment.uuid as string;
}

describe('protection report (API + SQLite, test clock)', () => {
  test('a host is protected while its agent beats; silent past agent_timeout it is not, and back again with the next heartbeat', async () => {
    const h = harness({ controller: { agent_timeout: 30 }, host_failure: { fencing_required: false } });
    await seed(h, 'seg-a', ['c1']);

    let r = await h.report();
    assert.equal(h.host(r, 'c1').protected, false);
    assert.match(h.host(r, 'c1').reasons.join('\n'), /no heartbeat ever received/);
    assert.equal(h.host(r, 'c1').agent, null);

    assert.equal((await h.call('POST', '/v1/x-masakari/heartbeats', { heartbeat: heartbeat('c1') })).status, 204);
    r = await h.report();
    const c1 = h.host(r, 'c1');
    assert.equal(c1.protected, true, JSON.stringify(c1));
    assert.deepEqual(c1.reasons, []);
    assert.match(c1.warnings.join('\n'), /fencing is switched off/);
    assert.equal(c1.fencing.state, 'disabled');
    assert.equal(c1.agent?.silent, false);
    assert.equal(c1.agent?.version, '0.1.0');
    assert.equal(r.segments[0]!.protected, true);
    assert.equal(r.segments[0]!.n_plus_one, null, 'no capacity provider: not computed');

    const lastSeen = c1.agent.last_seen!;
    h.clock.advance(31_000);
    r = await h.report();
    assert.equal(h.host(r, 'c1').protected, false);
    assert.deepEqual(h.host(r, 'c1').reasons, [`agent silent since ${lastSeen} (no heartbeat for 31 s, agent_timeout 30 s)`]);
    assert.equal(h.host(r, 'c1').agent?.silent, true);
    assert.equal(r.segments[0]!.protected, false);
    assert.match(r.segments[0]!.reasons.join('\n'), /1 of 1 hosts unprotected: c1/);

    // Still silent: the same state is not logged or published again.
    h.clock.advance(5_000);
    await h.report();
    await h.call('POST', '/v1/x-masakari/heartbeats', { heartbeat: heartbeat('c1') });
    r = await h.report();
    assert.equal(h.host(r, 'c1').protected, true);

    const changes = h.logs.filter((l) => l.component === 'protection' && typeof l.msg === 'string' && / c1 /.test(l.msg));
    assert.deepEqual(
      changes.map((l) => [l.protected, l.msg]),
      [
        [false, `host c1 is NOT protected: no heartbeat ever received from the compute agent of this host (agent not running, or not a masakari agent)`],
        [true, 'host c1 is protected again'],
        [false, `host c1 is NOT protected: agent silent since ${lastSeen} (no heartbeat for 31 s, agent_timeout 30 s)`],
        [true, 'host c1 is protected again'],
      ],
    );
    assert.deepEqual(
      h.events.map((e) => [e.type, e.payload.host, e.payload.protected, e.payload.segment]),
      [
        ['protection.change', 'c1', false, 'seg-a'],
        ['protection.change', 'c1', true, 'seg-a'],
        ['protection.change', 'c1', false, 'seg-a'],
        ['protection.change', 'c1', true, 'seg-a'],
      ],
    );
    await h.store.close();
  });

  test('agent_timeout null: 3 x the interval the agent announces', async () => {
    const h = harness({ host_failure: { fencing_required: false } });
    await seed(h, 'seg-a', ['c1']);
    await h.call('POST', '/v1/x-masakari/heartbeats', { heartbeat: heartbeat('c1', { interval_seconds: 2 }) });
    h.clock.advance(5_900);
    assert.equal(h.host(await h.report(), 'c1').protected, true);
    h.clock.advance(200);
    assert.match(h.host(await h.report(), 'c1').reasons[0]!, /agent silent since .* agent_timeout 6 s/);
    await h.store.close();
  });

  test('what the monitors report: libvirt link lost, no quorum, processes given up, undelivered notifications', async () => {
    const h = harness({ host_failure: { fencing_required: false } });
    await seed(h, 'seg-a', ['c1', 'c2', 'c3']);
    await h.call('POST', '/v1/x-masakari/heartbeats', {
      heartbeat: heartbeat('c1', {
        monitors: { instance: { libvirt: { connected: false, since: '2026-01-02T03:04:05.000Z', reason: 'connection lost: EOF' } } },
      }),
    });
    await h.call('POST', '/v1/x-masakari/heartbeats', {
      heartbeat: heartbeat('c2', {
        monitors: {
          host: { last_sample: { quorate: false, node_seen: true, at: '2026-01-02T03:04:05.000Z' }, last_error: null },
          process: { watched: [{ name: 'nova-compute', given_up: true }] },
        },
      }),
    });
    await h.call('POST', '/v1/x-masakari/heartbeats', {
      heartbeat: heartbeat('c3', { outbox: { pending: 2, rejected: 1, oldest_pending_age_seconds: 95 } }),
    });
    const r = await h.report();
    assert.deepEqual(h.host(r, 'c1').reasons, ['instance monitor disconnected from libvirt since 2026-01-02T03:04:05.000Z: connection lost: EOF']);
    assert.deepEqual(h.host(r, 'c2').reasons, ['host monitor without quorum (cluster sample at 2026-01-02T03:04:05.000Z)']);
    assert.match(h.host(r, 'c2').warnings.join('\n'), /process monitor gave up restarting: nova-compute/);
    assert.equal(h.host(r, 'c3').protected, true);
    assert.match(h.host(r, 'c3').warnings.join('\n'), /2 notification\(s\) not yet delivered by the agent, the oldest for 95 s/);
    assert.match(h.host(r, 'c3').warnings.join('\n'), /1 notification\(s\) refused by the controller are parked/);
    await h.store.close();
  });

  test('maintenance, disabled segment, no fencer, the mass-failure guard; ?segment= by name or uuid', async () => {
    const h = harness({});
    const segA = await seed(h, 'seg-a', ['a1', 'a2']);
    await seed(h, 'seg-b', ['b1']);
    for (const n of ['a1', 'a2', 'b1']) await h.call('POST', '/v1/x-masakari/heartbeats', { heartbeat: heartbeat(n) });

    let r = await h.report();
    for (const n of ['a1', 'a2', 'b1']) {
      assert.deepEqual(h.host(r, n).reasons, ['no fencer: the host has no entry in fencing.hosts and host_failure.fencing_required is true']);
      assert.equal(h.host(r, n).fencing.state, 'not_configured');
    }

    const a1 = (await h.store.getHostByName('a1'))!;
    const put = await h.call('PUT', `/v1/segments/${segA}/hosts/${a1.uuid}`, { host: { on_maintenance: true } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const segB = r.segments.find((s) => s.name === 'seg-b')!;
    const off = await h.call('PUT', `/v1/segments/${segB.uuid}`, { segment: { enabled: false } });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    r = await h.report();
    assert.ok(h.host(r, 'a1').reasons.includes('host on maintenance: notifications about it are refused'));
    assert.ok(h.host(r, 'b1').reasons.includes('segment seg-b is disabled: its host failures are not recovered'));
    assert.ok(r.segments.find((s) => s.name === 'seg-b')!.reasons.includes('segment seg-b is disabled: its host failures are not recovered'));

    // a2 failed a moment ago (a host failure notification): with 2 hosts, a failure of a1 now would make 2 of 2.
    await h.call('PUT', `/v1/segments/${segA}/hosts/${a1.uuid}`, { host: { on_maintenance: false } });
    const n = await h.call('POST', '/v1/notifications', {
      notification: {
        type: 'COMPUTE_HOST',
        hostname: 'a2',
        generated_time: h.clock.now().toISOString(),
        payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
      },
    });
    assert.equal(n.status, 202, JSON.stringify(n.body));
    r = await h.report('seg-a');
    assert.deepEqual(
      r.hosts.map((x) => x.name),
      ['a1', 'a2'],
    );
    assert.match(h.host(r, 'a1').reasons.join('\n'), /mass-failure guard paused: if this host failed now, evacuation paused: 2 of 2 hosts of segment seg-a/);
    assert.doesNotMatch(h.host(r, 'a2').reasons.join('\n'), /mass-failure/);

    assert.deepEqual(
      (await h.report(segA)).hosts.map((x) => x.name),
      ['a1', 'a2'],
    );
    const missing = await h.call('GET', '/v1/x-masakari/protection?segment=nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.itemNotFound.code, 404);
    await h.store.close();
  });

  test('heartbeats: a malformed one is a 400 in Masakari format; GET lists the latest per host', async () => {
    const h = harness({});
    for (const bad of [{}, { heartbeat: { host: 'x' } }, { heartbeat: { ...heartbeat('x'), interval_seconds: -1 } }, { heartbeat: heartbeat('x'), extra: 1 }]) {
      const r = await h.call('POST', '/v1/x-masakari/heartbeats', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.match(r.body.badRequest.message, /^Invalid heartbeat: /);
    }
    await h.call('POST', '/v1/x-masakari/heartbeats', { heartbeat: heartbeat('x', { version: '1' }) });
    h.clock.advance(1000);
    await h.call('POST', '/v1/x-masakari/heartbeats', { heartbeat: heartbeat('x', { version: '2' }) });
    const list = await h.call('GET', '/v1/x-masakari/heartbeats');
    assert.equal(list.status, 200);
    assert.equal(list.body.heartbeats.length, 1);
    assert.equal(list.body.heartbeats[0].heartbeat.version, '2');
    assert.equal(list.body.heartbeats[0].received_at, h.clock.now().toISOString());
    await h.store.close();
  });
});

describe('masakari protection (the CLI against a served controller API)', { timeout: 120_000 }, () => {
  let h: Harness;
  let api: RunningApi;
  let endpoint = '';
  before(async () => {
    h = harness({ host_failure: { fencing_required: false }, controller: { agent_timeout: 30 } });
    await seed(h, 'seg-a', ['c1']);
    api = await startApiServer(h.app, '127.0.0.1:0');
    endpoint = `http://127.0.0.1:${api.port}/v1`;
  });
  after(async () => {
    await api?.close();
    await h?.store.close();
  });
  const cli = (...args: string[]) => runCli(['protection', '--endpoint', endpoint, ...args], { env: { MASAKARI_CONFIG: '' } });

  test('exit 2 with the reason when a host is unprotected, 1 with warnings only, 3 when the controller is unreachable', async () => {
    let r = await cli();
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^SEGMENT\s+HOST\s+PROTECTED\s+AGENT\s+FENCING$/m);
    assert.match(r.stdout, /^seg-a\s+c1\s+NO\s+none\s+disabled$/m);
    assert.match(r.stdout, /- no heartbeat ever received/);

    await h.call('POST', '/v1/x-masakari/heartbeats', { heartbeat: heartbeat('c1') });
    r = await cli('--json', '--segment', 'seg-a');
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as ProtectionReport;
    assert.equal(report.hosts[0]!.name, 'c1');
    assert.equal(report.hosts[0]!.protected, true);
    assert.equal(report.segments[0]!.name, 'seg-a');
    assert.ok('n_plus_one' in report.segments[0]!);

    // Exit 0 needs a fencer that answers: test/protection/readiness.test.ts runs it against the simulated BMC.
    const empty = await h.call('POST', '/v1/segments', { segment: { name: 'seg-empty', recovery_method: 'auto', service_type: 'COMPUTE' } });
    assert.equal(empty.status, 201);
    r = await cli('--segment', 'seg-empty');
    assert.equal(r.code, 2, 'a segment without hosts protects nothing');
    assert.match(r.stdout, /segment has no hosts/);

    r = await runCli(['protection', '--endpoint', 'http://127.0.0.1:1/v1'], { env: { MASAKARI_CONFIG: '' } });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot get the protection report: GET http:\/\/127\.0\.0\.1:1\/v1\/x-masakari\/protection/);
  });
});
