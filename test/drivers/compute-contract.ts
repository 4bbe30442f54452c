// The ComputeDriver contract: what the recovery engine relies on, as tests every driver passes (sim, Nova, libvirt).
// Usage in a driver's test file:
//   computeDriverContract('nova', async () => ({ driver, hostA, hostB, serverId, failHost, cleanup, ... }));
// The suite runs its cases in order on one fixture; cases that change state put it back where the next case needs it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ComputeDriverError, observeServersOf, type ComputeDriver, type ServerInfo } from '../../src/core/ports/compute.ts';

export interface ContractFixture {
  driver: ComputeDriver;
  /** A compute host with the server `serverId` on it. */
  hostA: string;
  /** Another compute host, enabled and up, able to receive an evacuated server. */
  hostB: string;
  /** An active server on hostA that the suite may stop, start, lock, reset and evacuate. */
  serverId: string;
  /**
   * Makes hostA dead for the backend (power off, service heartbeat gone), so Nova-style evacuation is allowed.
   * Omit it when the backend cannot do that in a test: the evacuation cases are then skipped.
   */
  failHost?: (host: string) => Promise<void>;
  /** False for backends without host aggregates (they must throw ComputeDriverError('unsupported')). */
  aggregates: boolean;
  /** Upper bound for asynchronous state changes (stop, start, rebuild), in ms. */
  settleMs: number;
  cleanup(): Promise<void>;
}

async function eventually<T>(what: string, ms: number, probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) assert.fail(`${what}: not reached within ${ms} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, Math.min(200, Math.max(5, ms / 50))));
    last = await probe();
  }
  return last;
}

async function rejectsWithCode(p: Promise<unknown>, codes: ComputeDriverError['code'][]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ComputeDriverError, `expected a ComputeDriverError, got ${String(e)}`);
    assert.ok(codes.includes(e.code), `expected code ${codes.join('|')}, got ${e.code}: ${e.message}`);
    return true;
  });
}

function assertServerShape(s: ServerInfo): void {
  assert.equal(typeof s.id, 'string');
  assert.equal(typeof s.name, 'string');
  assert.ok(s.host === null || typeof s.host === 'string');
  assert.equal(typeof s.vmState, 'string');
  assert.ok(s.taskState === null || typeof s.taskState === 'string');
  assert.equal(typeof s.powerState, 'number');
  assert.equal(typeof s.metadata, 'object');
  assert.equal(typeof s.locked, 'boolean');
}

export function computeDriverContract(name: string, setup: () => Promise<ContractFixture>): void {
  describe(`ComputeDriver contract: ${name}`, { timeout: 300_000 }, () => {
    let f: ContractFixture;
    const server = () => f.driver.getServer(f.serverId);

    before(async () => {
      f = await setup();
    });
    after(async () => {
      await f?.cleanup();
    });

    it('knows its compute hosts, and not others', async () => {
      assert.equal(await f.driver.hostExists(f.hostA), true);
      assert.equal(await f.driver.hostExists(f.hostB), true);
      assert.equal(await f.driver.hostExists('no-such-host-3f1c'), false);
    });

    it('lists the servers of a host, with the fields the engine reads', async () => {
      const list = await f.driver.listServersOnHost(f.hostA);
      const s = list.find((x) => x.id === f.serverId);
      assert.ok(s, `server ${f.serverId} not listed on ${f.hostA}`);
      for (const x of list) assertServerShape(x);
      assert.equal(s.host, f.hostA);
      assert.deepEqual(await f.driver.listServersOnHost('no-such-host-3f1c'), []);
    });

    it('gets one server, and says not_found for an unknown one', async () => {
      const s = await server();
      assertServerShape(s);
      assert.equal(s.id, f.serverId);
      assert.equal(s.vmState, 'active');
      await rejectsWithCode(f.driver.getServer('00000000-0000-0000-0000-00000000dead'), ['not_found']);
    });

    it('observes several servers at once (batched or one by one): the view getServer gives, null for an unknown one', async () => {
      const unknown = '00000000-0000-0000-0000-00000000beef';
      const one = await server();
      // Near the server's own host (it is listed there) and near another host (it must still be found).
      for (const near of [f.hostA, f.hostB]) {
        const seen = await observeServersOf(f.driver, [f.serverId, unknown], { host: near });
        assert.equal(seen.size, 2, `near ${near}`);
        const s = seen.get(f.serverId);
        assert.ok(s, `near ${near}: ${f.serverId} not observed`);
        assertServerShape(s);
        assert.deepEqual([s.id, s.host, s.vmState, s.taskState, s.locked], [one.id, one.host, one.vmState, one.taskState, one.locked], `near ${near}`);
        assert.equal(seen.get(unknown), null, `near ${near}: an unknown server is null`);
      }
      assert.equal((await observeServersOf(f.driver, [], { host: f.hostA })).size, 0);
    });

    it('locks and unlocks a server', async () => {
      await f.driver.lockServer(f.serverId);
      assert.equal((await server()).locked, true);
      await f.driver.unlockServer(f.serverId);
      assert.equal((await server()).locked, false);
    });

    it('stops a server, refuses to stop it twice, and starts it again', async () => {
      await f.driver.stopServer(f.serverId);
      await eventually('stopped', f.settleMs, server, (s) => s.vmState === 'stopped' && s.taskState === null);
      await rejectsWithCode(f.driver.stopServer(f.serverId), ['conflict']);
      await f.driver.startServer(f.serverId);
      await eventually('active', f.settleMs, server, (s) => s.vmState === 'active' && s.taskState === null);
    });

    it('resets the state of a server to error and back to active', async () => {
      await f.driver.resetServerState(f.serverId, 'error');
      assert.equal((await server()).vmState, 'error');
      await f.driver.resetServerState(f.serverId, 'active');
      assert.equal((await server()).vmState, 'active');
    });

    it('reads the compute service of a host, and says not_found for an unknown host', async () => {
      const svc = await f.driver.getComputeService(f.hostA);
      assert.equal(svc.host, f.hostA);
      assert.equal(svc.binary, 'nova-compute');
      assert.ok(svc.status === 'enabled' || svc.status === 'disabled');
      assert.ok(svc.state === 'up' || svc.state === 'down');
      assert.equal(typeof svc.forcedDown, 'boolean');
      await rejectsWithCode(f.driver.getComputeService('no-such-host-3f1c'), ['not_found']);
    });

    it('disables a compute service with a reason and enables it again', async () => {
      await f.driver.disableComputeService(f.hostB, 'contract test');
      const d = await f.driver.getComputeService(f.hostB);
      assert.equal(d.status, 'disabled');
      assert.equal(d.disabledReason, 'contract test');
      await f.driver.enableComputeService(f.hostB);
      assert.equal((await f.driver.getComputeService(f.hostB)).status, 'enabled');
    });

    it('forces a compute service down and lifts it', async () => {
      await f.driver.setComputeServiceForcedDown(f.hostB, true);
      const d = await f.driver.getComputeService(f.hostB);
      assert.equal(d.forcedDown, true);
      assert.equal(d.state, 'down');
      await f.driver.setComputeServiceForcedDown(f.hostB, false);
      assert.equal((await f.driver.getComputeService(f.hostB)).forcedDown, false);
    });

    it('lists aggregates and adds a host to one (or says unsupported)', async () => {
      if (!f.aggregates) {
        await rejectsWithCode(f.driver.listAggregates(), ['unsupported']);
        return;
      }
      const aggs = await f.driver.listAggregates();
      assert.ok(Array.isArray(aggs));
      const withA = aggs.find((a) => a.hosts.includes(f.hostA) && !a.hosts.includes(f.hostB));
      if (!withA) return; // the fixture has no aggregate to extend: the listing shape was checked
      await f.driver.addHostToAggregate(withA.id, f.hostB);
      const again = (await f.driver.listAggregates()).find((a) => a.id === withA.id)!;
      assert.ok(again.hosts.includes(f.hostB));
      await rejectsWithCode(f.driver.addHostToAggregate(withA.id, f.hostB), ['conflict']);
    });

    it('refuses to evacuate from a host whose compute service is up', async () => {
      await rejectsWithCode(f.driver.evacuateServer(f.serverId, f.hostB), ['conflict']);
      assert.equal((await server()).host, f.hostA);
    });

    it('evacuates a server of a failed host to a given host', async () => {
      // Evacuation is the driver's reason to exist: every fixture must be able to fail a host.
      assert.ok(f.failHost, 'the driver fixture must provide failHost');
      await f.failHost(f.hostA);
      await f.driver.setComputeServiceForcedDown(f.hostA, true);
      assert.equal(await f.driver.latestEvacuation(f.serverId), null, 'never evacuated: no record');
      await f.driver.evacuateServer(f.serverId, f.hostB);
      const s = await eventually('rebuilt on hostB', f.settleMs, server, (x) => x.host === f.hostB && x.taskState === null);
      assert.equal(s.vmState, 'active');
      // The engine re-evacuates only when this is not in_progress: once the server is on hostB it must not be.
      const record = await eventually(
        'evacuation recorded as finished',
        f.settleMs,
        () => f.driver.latestEvacuation(f.serverId),
        (r) => r?.status !== 'in_progress',
      );
      if (record !== null) {
        assert.equal(record.status, 'done');
        assert.equal(record.destHost, f.hostB);
      }
      assert.ok((await f.driver.listServersOnHost(f.hostB)).some((x) => x.id === f.serverId));
      assert.ok(!(await f.driver.listServersOnHost(f.hostA)).some((x) => x.id === f.serverId));
    });
  });
}
