// The what-if planner against the simulated cloud with capacities, on the real engine and SQLite store: the plan
// is computed first, then the same host really fails and the engine recovers it; the plan must have said what the
// run then did (targets, what found no room), and a changed rule must change both the plan and the run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecoveryMethod } from '../../src/core/domain/model.ts';
import { planHostLoss, segmentSurvivesAnyHostLoss, type WhatIfPlan } from '../../src/core/protection/whatif/index.ts';
import type { Resources } from '../../src/core/ports/compute.ts';
import { world, HOST_DOWN, type World } from '../engine/harness.ts';

const SMALL: Resources = { vcpus: 2, ramMb: 2048, diskGb: 10 };

async function setup(opts: { config?: Record<string, unknown>; method?: RecoveryMethod; hosts?: string[]; reserved?: string[] }) {
  const w = await world({ hosts: ['h1', 'h2', 'h3'], ...opts });
  return w;
}

const plan = (w: World, host: string): Promise<WhatIfPlan> =>
  w.drive(planHostLoss({ store: w.store, compute: w.driver, config: w.config, fencingConfigured: true }, host));

/** Fails `host` for real and lets the engine recover it; returns each server's host afterwards and the final status. */
async function failAndRecover(w: World, host: string) {
  w.cloud.powerOff(host);
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', host, HOST_DOWN);
  const t0 = w.env.nowMs();
  await w.drive(e.process(n.uuid), 7200);
  const elapsedS = (w.env.nowMs() - t0) / 1000;
  await e.stop();
  const where = Object.fromEntries([...w.cloud.servers.values()].map((s) => [s.id, s.host]));
  return { where, status: (await w.store.getNotification(n.uuid))!.status, elapsedS };
}

test('a changed rule changes both the plan and the real run (evacuate_all_instances)', async () => {
  for (const evacuateAll of [true, false]) {
    const w = await setup({ config: { host_failure: { evacuate_all_instances: evacuateAll } } });
    w.cloud.addServer({ id: 'vm-ha', host: 'h1', metadata: { HA_Enabled: 'True' } });
    w.cloud.addServer({ id: 'vm-plain', host: 'h1' });
    const p = await plan(w, 'h1');
    const planned = Object.fromEntries(p.instances.map((i) => [i.id, i]));
    assert.equal(planned['vm-ha']!.recovered, true);
    assert.equal(planned['vm-plain']!.recovered, evacuateAll, `plan with evacuate_all_instances=${evacuateAll}`);
    if (!evacuateAll) assert.match(planned['vm-plain']!.reason!, /^not HA-enabled/);

    const run = await failAndRecover(w, 'h1');
    assert.notEqual(run.where['vm-ha'], 'h1');
    assert.equal(run.where['vm-plain'] !== 'h1', evacuateAll, `real run with evacuate_all_instances=${evacuateAll}`);
    await w.close();
  }
});

test('a changed rule changes both: ignore_instances_in_error_state', async () => {
  for (const ignore of [false, true]) {
    const w = await setup({ config: { host_failure: { ignore_instances_in_error_state: ignore } } });
    w.cloud.addServer({ id: 'vm-ok', host: 'h1', metadata: { HA_Enabled: 'True' } });
    w.cloud.addServer({ id: 'vm-err', host: 'h1', vmState: 'error', metadata: { HA_Enabled: 'True' } });
    const p = await plan(w, 'h1');
    const err = p.instances.find((i) => i.id === 'vm-err')!;
    assert.equal(err.recovered, !ignore);
    if (ignore) assert.match(err.reason!, /^in error state/);
    const run = await failAndRecover(w, 'h1');
    assert.equal(run.where['vm-err'] !== 'h1', !ignore);
    await w.close();
  }
});

test('auto: the plan names the hosts with room and the shortfall, and the real evacuation lands there', async () => {
  const w = await setup({});
  w.cloud.hosts.get('h2')!.capacity = { vcpus: 4, ramMb: 4096, diskGb: 40 };
  w.cloud.hosts.get('h3')!.capacity = { vcpus: 2, ramMb: 2048, diskGb: 40 };
  w.cloud.addServer({ id: 'busy', host: 'h2', resources: SMALL });
  for (const id of ['a', 'b', 'c']) w.cloud.addServer({ id, host: 'h1', resources: SMALL, metadata: { HA_Enabled: 'True' } });

  const p = await plan(w, 'h1');
  const recovered = p.instances.filter((i) => i.recovered);
  assert.equal(recovered.length, 2, JSON.stringify(p.instances));
  const lost = p.instances.filter((i) => !i.recovered);
  assert.deepEqual(
    lost.map((i) => i.id),
    ['c'],
  );
  assert.match(lost[0]!.reason!, /^no capacity/);
  assert.deepEqual(p.shortfall, { vcpus: 2, ram_mb: 2048, disk_gb: 10 });
  const h2 = p.capacity.find((c) => c.host === 'h2')!;
  assert.deepEqual(h2.before, { vcpus: 2, ram_mb: 2048, disk_gb: 30 });
  assert.deepEqual(h2.after, { vcpus: 0, ram_mb: 0, disk_gb: 20 });
  assert.ok(p.estimated_makespan_seconds > 0);

  const run = await failAndRecover(w, 'h1');
  assert.equal(run.status, 'error', 'one instance cannot be placed, so the recovery ends in error');
  for (const i of recovered) {
    assert.ok(i.candidates.includes(run.where[i.id]!), `${i.id} went to ${run.where[i.id]}, planned among ${i.candidates.join(',')}`);
    assert.equal(i.target, null, 'the scheduler picks');
  }
  assert.deepEqual(new Set(recovered.map((i) => run.where[i.id])), new Set(['h2', 'h3']));
  assert.equal(run.where.c, 'h1', 'the instance without room stays on the failed host');
  await w.close();
});

test('reserved_host: first-fit over the reserved hosts in order, as the flow retries the next one', async () => {
  const w = await setup({ method: 'reserved_host', reserved: ['r1', 'r2'] });
  w.cloud.hosts.get('r1')!.capacity = { vcpus: 4, ramMb: 4096, diskGb: 100 };
  w.cloud.hosts.get('r2')!.capacity = { vcpus: 8, ramMb: 8192, diskGb: 100 };
  for (const id of ['a', 'b', 'c']) w.cloud.addServer({ id, host: 'h1', resources: SMALL, metadata: { HA_Enabled: 'True' } });

  const p = await plan(w, 'h1');
  assert.deepEqual(
    p.instances.map((i) => [i.id, i.recovered, i.target]),
    [
      ['a', true, 'r1'],
      ['b', true, 'r1'],
      ['c', true, 'r2'],
    ],
  );
  assert.equal(p.shortfall, null);
  const run = await failAndRecover(w, 'h1');
  assert.equal(run.status, 'finished');
  assert.deepEqual([run.where.a, run.where.b, run.where.c], ['r1', 'r1', 'r2']);
  await w.close();
});

test('reserved_host without a reserved host: nothing recovered, the reason says so, and the run agrees', async () => {
  const w = await setup({ method: 'reserved_host' });
  w.cloud.addServer({ id: 'a', host: 'h1', metadata: { HA_Enabled: 'True' } });
  const p = await plan(w, 'h1');
  assert.equal(p.instances[0]!.recovered, false);
  assert.match(p.instances[0]!.reason!, /^no reserved host/);
  const run = await failAndRecover(w, 'h1');
  assert.equal(run.where.a, 'h1');
  await w.close();
});

test('a changed rule changes both: max_evacuations_per_target_host stretches the plan and the real run', async () => {
  const results: { planned: number; real: number }[] = [];
  for (const cap of [16, 1]) {
    const w = await setup({ method: 'reserved_host', reserved: ['r1'], config: { host_failure: { max_evacuations_per_target_host: cap } } });
    for (const id of ['a', 'b', 'c', 'd']) w.cloud.addServer({ id, host: 'h1', metadata: { HA_Enabled: 'True' } });
    const p = await plan(w, 'h1');
    assert.equal(p.instances.filter((i) => i.target === 'r1').length, 4);
    const run = await failAndRecover(w, 'h1');
    assert.equal(run.status, 'finished');
    results.push({ planned: p.estimated_makespan_seconds, real: run.elapsedS });
    await w.close();
  }
  const [wide, narrow] = results as [{ planned: number; real: number }, { planned: number; real: number }];
  // One at a time: four evacuations in a row instead of four at once, in the plan and in the run.
  assert.ok(narrow.planned >= 3 * wide.planned, JSON.stringify(results));
  assert.ok(narrow.real > 2 * wide.real, JSON.stringify(results));
});

test('the makespan uses the measured evacuation times of earlier recoveries', async () => {
  const w = await setup({});
  w.cloud.addServer({ id: 'a', host: 'h1', metadata: { HA_Enabled: 'True' } });
  w.cloud.addServer({ id: 'b', host: 'h2', metadata: { HA_Enabled: 'True' } });
  const before = await plan(w, 'h2');
  assert.equal(before.makespan_basis.measured_evacuations, 0);
  await failAndRecover(w, 'h1');
  const after = await plan(w, 'h2');
  assert.equal(after.makespan_basis.measured_evacuations, 1);
  // The simulated rebuild takes 5 s; the engine's confirmation adds its polling.
  assert.ok(after.makespan_basis.evacuation_seconds >= 5 && after.makespan_basis.evacuation_seconds < 60, JSON.stringify(after.makespan_basis));
  assert.equal(after.estimated_makespan_seconds, Math.round(after.makespan_basis.evacuation_seconds * 10) / 10);
  await w.close();
});

test('N+1: a segment that cannot absorb its largest host names it; one that can says yes', async () => {
  const w = await setup({});
  for (const h of ['h1', 'h2', 'h3']) w.cloud.hosts.get(h)!.capacity = { vcpus: 8, ramMb: 8192, diskGb: 100 };
  // 8 GiB hosts: h1 carries one 6 GiB server, h2 and h3 4 GiB each. Losing h1 leaves 8 GiB free in all, but only
  // 4 GiB on either host: the big server fits nowhere. Losing h2 or h3 is fine (4 GiB fits on the other).
  w.cloud.addServer({ id: 'big', host: 'h1', resources: { vcpus: 4, ramMb: 6144, diskGb: 10 }, metadata: { HA_Enabled: 'True' } });
  w.cloud.addServer({ id: 'm2', host: 'h2', resources: { vcpus: 2, ramMb: 4096, diskGb: 10 }, metadata: { HA_Enabled: 'True' } });
  w.cloud.addServer({ id: 'm3', host: 'h3', resources: { vcpus: 2, ramMb: 4096, diskGb: 10 }, metadata: { HA_Enabled: 'True' } });
  const s = await w.drive(segmentSurvivesAnyHostLoss({ store: w.store, compute: w.driver, config: w.config, fencingConfigured: true }, w.segment));
  assert.equal(s.n_plus_one, false);
  assert.deepEqual(s.breaking_hosts, ['h1']);
  assert.match(s.reasons[0]!, /losing h1 leaves 1 instance\(s\) unrecovered \(no capacity\)/);

  // Make room: h2's server shrinks; now the segment survives any one loss.
  w.cloud.servers.get('m2')!.resources = { vcpus: 2, ramMb: 1024, diskGb: 10 };
  const ok = await w.drive(segmentSurvivesAnyHostLoss({ store: w.store, compute: w.driver, config: w.config, fencingConfigured: true }, w.segment));
  assert.equal(ok.n_plus_one, true, JSON.stringify(ok.reasons));
  assert.deepEqual(ok.breaking_hosts, []);
  await w.close();
});

test('a disabled segment, a host on maintenance and missing fencing block every recovery in the plan', async () => {
  const w = await setup({});
  w.cloud.addServer({ id: 'a', host: 'h1', metadata: { HA_Enabled: 'True' } });
  const noFence = await w.drive(planHostLoss({ store: w.store, compute: w.driver, config: w.config, fencingConfigured: false }, 'h1'));
  assert.match(noFence.instances[0]!.reason!, /^no fencing/);
  await w.store.updateHost(w.hosts.h1!.uuid, { onMaintenance: true }, w.env.now());
  assert.match((await plan(w, 'h1')).instances[0]!.reason!, /^host on maintenance/);
  await w.store.updateHost(w.hosts.h1!.uuid, { onMaintenance: false }, w.env.now());
  await w.store.updateSegment(w.segment.uuid, { enabled: false }, w.env.now());
  assert.match((await plan(w, 'h1')).instances[0]!.reason!, /^segment disabled/);
  // Unknown host: the API's 404 (itemNotFound), before the backend is asked anything.
  await assert.rejects(
    planHostLoss({ store: w.store, compute: w.driver, config: w.config, fencingConfigured: true }, 'nope'),
    (e: Error & { status?: number }) => e.status === 404 && /Host with name nope could not be found/.test(e.message),
  );
  await w.close();
});
