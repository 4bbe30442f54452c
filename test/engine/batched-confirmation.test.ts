// Evacuations confirmed in batches (EvacuationWatch, for drivers with observeServers such as Nova's): the number of
// "where is this server now" calls per evacuated server stays bounded however long the rebuilds take and however
// many run at once, the makespan stays that of per-server polling, and the checks that prevent a second evacuation
// still hold. The real engine and the simulated cloud, on virtual time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { world, HOST_DOWN, type World } from './harness.ts';

interface Outcome {
  uuid: string;
  status: string | undefined;
  makespanS: number;
  /** getServer + observeServers calls (what polling costs), per evacuated server. */
  observationsPerServer: number;
  observeCalls: number;
  w: World;
}

async function failHost(opts: {
  batch: boolean;
  servers: number;
  rebuildS: number;
  config?: Record<string, unknown>;
  prepare?: (w: World) => void;
}): Promise<Outcome> {
  const w = await world({ hosts: ['h1', 'h2', 'h3'], batchObserve: opts.batch, config: { host_failure: { fencing_required: false }, ...opts.config } });
  w.cloud.latencies.rebuildMinMs = opts.rebuildS * 1000;
  w.cloud.latencies.rebuildMaxMs = opts.rebuildS * 1000;
  for (let i = 0; i < opts.servers; i++) w.cloud.addServer({ id: `vm${i}`, host: 'h1', metadata: { HA_Enabled: 'True' } });
  opts.prepare?.(w);
  w.cloud.powerOff('h1');
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  const t0 = w.env.nowMs();
  await w.drive(e.process(n.uuid));
  const makespanS = (w.env.nowMs() - t0) / 1000;
  await e.stop();
  const calls = (op: 'getServer' | 'observeServers') => w.driver.calls.get(op) ?? 0;
  return {
    uuid: n.uuid,
    status: (await w.store.getNotification(n.uuid))?.status,
    makespanS,
    observationsPerServer: (calls('getServer') + calls('observeServers')) / opts.servers,
    observeCalls: calls('observeServers'),
    w,
  };
}

function assertEachEvacuatedOnce(w: World, servers: number): void {
  for (let i = 0; i < servers; i++) {
    assert.equal(w.cloud.evacuations.get(`vm${i}`), 1, `vm${i} evacuated once`);
    const s = w.cloud.servers.get(`vm${i}`)!;
    assert.notEqual(s.host, 'h1');
    assert.equal(s.vmState, 'active');
    assert.equal(s.locked, false);
  }
  assert.equal(w.cloud.repeatedEvacuations, 0);
  assert.deepEqual(w.cloud.violations, []);
}

test('batched confirmation: bounded observations per server whatever the rebuild time, makespan as with per-server polling', async () => {
  const results: string[] = [];
  for (const rebuildS of [5, 60]) {
    const polled = await failHost({ batch: false, servers: 40, rebuildS });
    const batched = await failHost({ batch: true, servers: 40, rebuildS });
    for (const r of [polled, batched]) {
      assert.equal(r.status, 'finished');
      assertEachEvacuatedOnce(r.w, 40);
    }
    assert.ok(batched.observeCalls > 0, 'the engine used the batched observation');
    assert.equal(polled.observeCalls, 0, 'without observeServers the engine polls each server');
    // Per server: inspect, prepare and the confirmation's share of the cycles; never one GET per second of rebuild.
    assert.ok(batched.observationsPerServer <= 6, `rebuild ${rebuildS} s: ${batched.observationsPerServer} observations per server`);
    assert.ok(polled.observationsPerServer > rebuildS / 2, `per-server polling costs about one GET per second: ${polled.observationsPerServer}`);
    // Backing off (only during long quiet waits) may notice a wave of servers up to one longest interval (5 s) later.
    assert.ok(batched.makespanS <= polled.makespanS * 1.1 + 1, `makespan batched ${batched.makespanS} s, polled ${polled.makespanS} s`);
    results.push(
      `rebuild ${rebuildS} s: polled ${polled.observationsPerServer}/server ${polled.makespanS} s, batched ${batched.observationsPerServer}/server ${batched.makespanS} s`,
    );
    await polled.w.close();
    await batched.w.close();
  }
  // The batched cost does not grow with the rebuild time.
  assert.equal(results.length, 2);
});

test('batched confirmation keeps the guard against a second evacuation (Nova shows the rebuilt server on the failed host)', async () => {
  const r = await failHost({
    batch: true,
    servers: 3,
    rebuildS: 10,
    config: { engine: { wait_period_after_evacuation: 100 } },
    prepare: (w) => w.cloud.rebuildOutcome.set('vm1', 'late-move'),
  });
  assert.equal(r.status, 'finished');
  assertEachEvacuatedOnce(r.w, 3);
  await r.w.close();
});

test('batched confirmation: a rebuild that ends in error fails that server at once, the others succeed', async () => {
  const r = await failHost({ batch: true, servers: 4, rebuildS: 10, prepare: (w) => w.cloud.rebuildOutcome.set('vm2', 'error') });
  assert.equal(r.status, 'error');
  const moves = await r.w.store.listVMoves({ filters: { notificationUuid: r.uuid }, sort: [{ key: 'created_at', dir: 'asc' }], limit: 10 });
  const byId = new Map(moves.map((m) => [m.instanceUuid, m]));
  assert.equal(byId.get('vm2')?.status, 'failed');
  assert.match(byId.get('vm2')?.message ?? '', /Failed to evacuate instance vm2/);
  for (const id of ['vm0', 'vm1', 'vm3']) assert.equal(byId.get(id)?.status, 'succeeded', id);
  // Found by the batch within seconds, not after wait_period_after_evacuation (90 s) per attempt.
  assert.ok(r.makespanS < 60, `makespan ${r.makespanS} s`);
  await r.w.close();
});
