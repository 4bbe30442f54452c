// A controller that lost its lease while its workflow ran on (its renewals stalled behind the database, as during a
// Galera view change) must not write over the workflow another controller took over: its writes are fenced by the
// lease (Store LeaseFence) and refused, and its workflow stops at the first refusal. Before the fence, the stale
// controller went on saving its own whole-map checkpoint over the taker's; the instances the taker had locked then
// vanished from the checkpoint and stayed locked for good (docs/ha.md, "Galera": the evacuation test's former todo).
// Real engine and SQLite store on a virtual clock, the simulated cloud (harness.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/core/store/types.ts';
import { HOST_DOWN, world } from './harness.ts';

const INSTANCES = 24;

test('a controller whose lease ran out while its workflow ran is refused its writes and stops; the taker finishes cleanly', async () => {
  const w = await world({
    hosts: ['h1', 'h2', 'h3'],
    config: { engine: { claim_lease_seconds: 3, host_failure_recovery_threads: 3 }, host_failure: { fencing_required: false } },
  });
  for (let i = 0; i < INSTANCES; i++) w.cloud.addServer({ id: `vm-${String(i).padStart(2, '0')}`, host: 'h1', vmState: i % 4 === 3 ? 'stopped' : 'active' });
  w.cloud.powerOff('h1');

  // c1's renewals stall (fail) from `stalled` on; its other writes reach the store as usual.
  let stalled = false;
  const renewalsRefused: string[] = [];
  const s1: Store = {
    ...w.store,
    renewNotificationClaim: (...a) => {
      if (!stalled) return w.store.renewNotificationClaim(...a);
      renewalsRefused.push(a[0]);
      return Promise.reject(new Error('database stalled'));
    },
  };
  const c1 = w.engine('c1', { store: s1 });
  const c2 = w.engine('c2');
  await c1.start();
  await c2.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  const p1 = c1.process(n.uuid);

  // Let c1 evacuate a part, then stall its renewals while instances are in flight.
  const moved = async () =>
    (await w.store.listVMoves({ filters: { notificationUuid: n.uuid }, sort: [], limit: 1000 })).filter((v) => v.status === 'succeeded').length;
  const until = w.env.nowMs() + 600_000;
  while ((await moved()) < INSTANCES / 4 && w.env.nowMs() < until) await w.env.run(w.env.nowMs() + 200);
  assert.ok((await moved()) >= INSTANCES / 4, 'c1 evacuated a quarter');
  stalled = true;
  const stalledAt = w.env.nowMs();

  // Past the lease, c2 takes the workflow over (as its periodic job does).
  await w.env.run(stalledAt + 3_500);
  const p2 = c2.process(n.uuid, 'resume');
  const [r1, r2] = await w.drive(Promise.all([p1, p2]), 1800);
  assert.equal(r1, 'aborted', 'c1 stopped its workflow');
  assert.equal(r2, 'done');
  assert.ok(renewalsRefused.length > 0, 'c1 tried to renew meanwhile');

  const final = (await w.store.getNotification(n.uuid))!;
  assert.equal(final.status, 'finished', final.lastError ?? '');
  assert.equal(w.cloud.repeatedEvacuations, 0);
  assert.deepEqual(w.cloud.violations, []);
  const wrong: string[] = [];
  for (const [id, s] of w.cloud.servers) {
    const want = Number(id.slice(3)) % 4 === 3 ? 'stopped' : 'active';
    if (s.host === 'h1' || s.locked || s.vmState !== want || s.taskState !== null || w.cloud.evacuations.get(id) !== 1) {
      wrong.push(`${id}: ${s.host} ${s.vmState}/${s.taskState} locked=${s.locked} evacuations=${w.cloud.evacuations.get(id)}`);
    }
  }
  assert.deepEqual(wrong, []);
  const moves = await w.store.listVMoves({ filters: { notificationUuid: n.uuid }, sort: [], limit: 1000 });
  assert.equal(moves.filter((v) => v.status === 'succeeded').length, INSTANCES);
  await w.close();
});
