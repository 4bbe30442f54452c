// A controller that lost its lease while its workflow ran must not act on a workflow another controller took over:
// (1) its own clock stops it when no renewal succeeded within the lease (renewals stalled behind the database, as
// during a Galera view change), and (2) every workflow write is fenced by the lease in the store (Store LeaseFence),
// so even a controller that still believes it holds the lease (the taker's clock ahead of its own) is refused its
// next write and stops. Before these, the stale controller went on saving its own whole-map checkpoint over the
// taker's; instances the taker had locked vanished from the checkpoint and stayed locked (docs/ha.md, "Galera").
// Real engine and SQLite store on a virtual clock, the simulated cloud (harness.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComputeDriver } from '../../src/core/ports/compute.ts';
import type { Store } from '../../src/core/store/types.ts';
import { HOST_DOWN, world, type World } from './harness.ts';

const INSTANCES = 24;

async function evacuation(leaseS: number) {
  const w = await world({
    hosts: ['h1', 'h2', 'h3'],
    config: { engine: { claim_lease_seconds: leaseS, host_failure_recovery_threads: 3 }, host_failure: { fencing_required: false } },
  });
  for (let i = 0; i < INSTANCES; i++) w.cloud.addServer({ id: `vm-${String(i).padStart(2, '0')}`, host: 'h1', vmState: i % 4 === 3 ? 'stopped' : 'active' });
  w.cloud.powerOff('h1');
  return w;
}

/** c1's store: renewals fail from `stall()` on; every LEASE_LOST refusal of its writes is counted. */
function stallingStore(w: World) {
  const c = { stalled: false, renewalsRefused: 0, leaseLost: 0 };
  const counted =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    (...a: A) =>
      f(...a).catch((e: unknown) => {
        if ((e as { code?: string }).code === 'LEASE_LOST') c.leaseLost++;
        throw e;
      });
  const store: Store = {
    ...w.store,
    renewNotificationClaim: (...a) => {
      if (!c.stalled) return w.store.renewNotificationClaim(...a);
      c.renewalsRefused++;
      return Promise.reject(new Error('database stalled'));
    },
    appendTask: counted((...a) => w.store.appendTask(...a)),
    updateTask: counted((...a) => w.store.updateTask(...a)),
    createVMove: counted((...a) => w.store.createVMove(...a)),
    updateVMove: counted((...a) => w.store.updateVMove(...a)),
  };
  return { store, c };
}

/** The compute driver as c1 uses it, noting the virtual time of each call. */
function timedDriver(w: World, calls: number[]): ComputeDriver {
  return new Proxy(w.driver, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...a: unknown[]) => {
        calls.push(w.env.nowMs());
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });
}

async function runUntilMoved(w: World, uuid: string, n: number) {
  const moved = async () =>
    (await w.store.listVMoves({ filters: { notificationUuid: uuid }, sort: [], limit: 1000 })).filter((v) => v.status === 'succeeded').length;
  const until = w.env.nowMs() + 600_000;
  while ((await moved()) < n && w.env.nowMs() < until) await w.env.run(w.env.nowMs() + 200);
  assert.ok((await moved()) >= n, `${n} instances evacuated`);
}

async function assertCleanEnd(w: World, uuid: string) {
  const final = (await w.store.getNotification(uuid))!;
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
  const moves = await w.store.listVMoves({ filters: { notificationUuid: uuid }, sort: [], limit: 1000 });
  assert.equal(moves.filter((v) => v.status === 'succeeded').length, INSTANCES);
}

test('renewals stall: the controller stops its workflow when its lease runs out by its own clock; the taker finishes cleanly', async () => {
  const w = await evacuation(3);
  const { store, c } = stallingStore(w);
  const calls: number[] = [];
  const c1 = w.engine('c1', { store, compute: timedDriver(w, calls) });
  const c2 = w.engine('c2');
  await c1.start();
  await c2.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  const p1 = c1.process(n.uuid);
  await runUntilMoved(w, n.uuid, INSTANCES / 4);
  c.stalled = true;
  const stalledAt = w.env.nowMs();
  // Past the lease, c2 takes the workflow over (as its periodic job does).
  await w.env.run(stalledAt + 3_500);
  assert.equal(await Promise.race([p1, Promise.resolve('still running')]), 'aborted', 'c1 stopped by the time its lease ran out');
  const p2 = c2.process(n.uuid, 'resume');
  assert.equal(await w.drive(p2, 1800), 'done');
  assert.ok(c.renewalsRefused > 0, 'c1 tried to renew meanwhile');
  const late = calls.filter((t) => t > stalledAt + 3_000);
  assert.deepEqual(late, [], 'c1 called the cloud after its lease ran out');
  await assertCleanEnd(w, n.uuid);
  await w.close();
});

test("a controller that still believes it holds the lease (the taker's clock is ahead) is refused its next write and stops", async () => {
  const w = await evacuation(10);
  const { store, c } = stallingStore(w);
  const c1 = w.engine('c1', { store });
  // c2's clock runs 20 s ahead of c1's when it claims: to it, c1's lease has run out.
  const ahead = (d: Date) => new Date(d.getTime() + 20_000);
  const skewed: Store = {
    ...w.store,
    claimNotification: (u, o, l, now, count) => w.store.claimNotification(u, o, l, ahead(now), count),
    claimHostRecovery: (k, u, o, l, now) => w.store.claimHostRecovery(k, u, o, l, ahead(now)),
  };
  const c2 = w.engine('c2', { store: skewed });
  await c1.start();
  await c2.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  const p1 = c1.process(n.uuid);
  await runUntilMoved(w, n.uuid, INSTANCES / 4);
  // c1's renewals stall (so only the fence can stop it before its own deadline, 9 s or more away); c2 takes over.
  c.stalled = true;
  const stalledAt = w.env.nowMs();
  await w.env.run(stalledAt + 100);
  const p2 = c2.process(n.uuid, 'resume');
  const [r1, r2] = await w.drive(Promise.all([p1.then((r) => ({ r, at: w.env.nowMs() })), p2]), 1800);
  assert.equal(r1.r, 'aborted');
  assert.equal(r2, 'done');
  assert.ok(c.leaseLost > 0, 'a write of c1 was refused (LEASE_LOST)');
  assert.ok(r1.at < stalledAt + 9_000, `c1 stopped by the fence, before its own deadline (after ${r1.at - stalledAt} ms)`);
  await assertCleanEnd(w, n.uuid);
  await w.close();
});
