// The engine's host guards (src/core/engine/guards/): the mass-failure pause and the host-return un-maintenance,
// on the real engine and store with the simulated cloud (virtual time).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { massFailureVerdict } from '../../src/core/engine/guards/mass-failure.ts';
import { hostReturnVerdict } from '../../src/core/engine/guards/host-return.ts';
import type { Host, Notification } from '../../src/core/domain/model.ts';
import { world, HOST_DOWN } from './harness.ts';

const HOST_UP = { event: 'STARTED', host_status: 'NORMAL', cluster_status: 'ONLINE' };

test('verdict: more than the share pauses; exactly the share, or hosts outside the segment, do not', () => {
  const v = (failed: string[], hosts = ['a', 'b', 'c'], share = 0.5) =>
    massFailureVerdict({ segmentName: 'S', segmentHosts: hosts, failedHosts: failed, maxFailedShare: share, minFailedHosts: 2, windowSeconds: 300 });
  const paused = v(['a', 'b']);
  assert.equal(paused.paused, true);
  assert.match(paused.paused ? paused.reason : '', /^Evacuation paused: 2 of 3 hosts of segment S failed within 300 s \(a, b\), more than 50%/);
  assert.equal(v(['a']).paused, false);
  assert.equal(v(['a', 'b'], ['a', 'b', 'c', 'd']).paused, false, '2 of 4 is 50%, not more');
  assert.equal(v(['a', 'a', 'x', 'y']).paused, false, 'duplicates and foreign hosts do not count');
  assert.equal(v(['a', 'b', 'c'], ['a', 'b', 'c'], 1).paused, false, 'share 1 never pauses');
});

test('verdict: fewer failed hosts than min_failed_hosts never pause, whatever their share', () => {
  const v = (failed: string[], hosts: string[], min: number) =>
    massFailureVerdict({ segmentName: 'S', segmentHosts: hosts, failedHosts: failed, maxFailedShare: 0.5, minFailedHosts: min, windowSeconds: 300 });
  const alone = v(['a'], ['a'], 2);
  assert.equal(alone.paused, false, 'the only host of a segment failing is one failed host, not a mass failure');
  assert.match(alone.paused ? '' : alone.detail, /1 of 1 hosts .*\(fewer than 2 failed hosts never pause/);
  assert.equal(v(['a', 'b'], ['a', 'b'], 2).paused, true, '2 of 2 reaches the minimum and is more than 50%');
  assert.equal(v(['a', 'b'], ['a', 'b', 'c'], 3).paused, false, 'min 3: two failed hosts never pause');
  assert.equal(v(['a'], ['a'], 1).paused, true, 'min 1 is the old rule: 1 of 1 pauses');
});

test('the only host of its segment fails: recovered with the default guard (min_failed_hosts 2)', async () => {
  const w = await world({ hosts: ['h1'] });
  w.cloud.addHost('elsewhere');
  w.cloud.addServer({ id: 'vm-h1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const e = w.engine();
  await e.start();
  w.cloud.powerOff('h1');
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.drive(e.process(n.uuid));
  const after = (await w.store.getNotification(n.uuid))!;
  assert.equal(after.status, 'finished', after.lastError ?? '');
  assert.equal(w.cloud.servers.get('vm-h1')!.host, 'elsewhere');
  await e.stop();
  await w.close();
});

async function threeHosts(config: Record<string, unknown> = {}) {
  const w = await world({ hosts: ['h1', 'h2', 'h3'], config });
  for (const h of ['h1', 'h2', 'h3']) w.cloud.addServer({ id: `vm-${h}`, host: h, metadata: { HA_Enabled: 'true' } });
  return w;
}

test('2 of 3 hosts failed within the window: evacuation paused, error with the reason, nothing touched', async () => {
  const w = await threeHosts();
  const e = w.engine();
  await e.start();
  w.cloud.powerOff('h1');
  w.cloud.powerOff('h2');
  const n1 = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.notify('COMPUTE_HOST', 'h2', HOST_DOWN, 10);
  await w.drive(e.process(n1.uuid));
  const after = (await w.store.getNotification(n1.uuid))!;
  assert.equal(after.status, 'error');
  assert.match(after.lastError ?? '', /^Evacuation paused: 2 of 3 hosts of segment seg failed within 300 s \(h1, h2\)/);
  const tasks = await w.store.listTasks(n1.uuid);
  assert.deepEqual(
    tasks.map((t) => [t.name, t.state]),
    [['MassFailureGuardTask', 'FAILURE']],
  );
  assert.match(tasks[0]!.details.at(-1)!.message, /Evacuation paused/);
  assert.equal((await w.store.getHost(w.hosts.h1!.uuid))!.onMaintenance, false, 'the host is left as it was');
  assert.equal(w.cloud.servers.get('vm-h1')!.host, 'h1', 'nothing evacuated');
  await e.stop();
  await w.close();
});

test('a clean shutdown (STOPPED/UNKNOWN) elsewhere in the segment is not a failure for the guard', async () => {
  const w = await threeHosts();
  const e = w.engine();
  await e.start();
  w.cloud.powerOff('h1');
  const n1 = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.notify('COMPUTE_HOST', 'h2', { ...HOST_DOWN, host_status: 'UNKNOWN' });
  await w.drive(e.process(n1.uuid));
  assert.equal((await w.store.getNotification(n1.uuid))!.status, 'finished');
  await e.stop();
  await w.close();
});

test('one host failed: the guard lets it pass without a trace in the task list', async () => {
  const w = await threeHosts();
  const e = w.engine();
  await e.start();
  w.cloud.powerOff('h1');
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.drive(e.process(n.uuid));
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
  const names = (await w.store.listTasks(n.uuid)).map((t) => t.name);
  assert.equal(names.includes('MassFailureGuardTask'), false);
  assert.notEqual(w.cloud.servers.get('vm-h1')!.host, 'h1');
  await e.stop();
  await w.close();
});

test('a retry after the window is judged on what failed since: the old burst no longer pauses it', async () => {
  const w = await threeHosts({ cluster_safety: { mass_failure: { window_seconds: 60 } } });
  const e = w.engine();
  await e.start();
  w.cloud.powerOff('h1');
  const n1 = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.notify('COMPUTE_HOST', 'h2', HOST_DOWN);
  await w.drive(e.process(n1.uuid));
  assert.equal((await w.store.getNotification(n1.uuid))!.status, 'error');
  await w.env.run(w.env.nowMs() + 120_000);
  await w.drive(e.process(n1.uuid, 'retry'));
  assert.equal((await w.store.getNotification(n1.uuid))!.status, 'finished');
  await e.stop();
  await w.close();
});

test('disabled: 2 of 3 failing are evacuated as Masakari would', async () => {
  const w = await threeHosts({ cluster_safety: { mass_failure: { enabled: false } } });
  const e = w.engine();
  await e.start();
  w.cloud.powerOff('h1');
  const n1 = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.notify('COMPUTE_HOST', 'h2', HOST_DOWN);
  await w.drive(e.process(n1.uuid));
  const names = (await w.store.listTasks(n1.uuid)).map((t) => t.name);
  assert.equal(names.includes('MassFailureGuardTask'), false);
  assert.equal((await w.store.getNotification(n1.uuid))!.status, 'finished');
  await e.stop();
  await w.close();
});

for (const enabled of [true, false]) {
  test(`host return with auto_unset_maintenance_on_return=${enabled}`, async () => {
    const w = await threeHosts({ host_failure: { auto_unset_maintenance_on_return: enabled } });
    const e = w.engine();
    await e.start();
    w.cloud.powerOff('h1');
    const down = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
    await w.drive(e.process(down.uuid));
    assert.equal((await w.store.getNotification(down.uuid))!.status, 'finished');
    assert.equal((await w.store.getHost(w.hosts.h1!.uuid))!.onMaintenance, true);
    await w.env.run(w.env.nowMs() + 60_000);
    w.cloud.powerOn('h1');
    const up = await w.notify('COMPUTE_HOST', 'h1', HOST_UP);
    await w.drive(e.process(up.uuid));
    assert.equal((await w.store.getNotification(up.uuid))!.status, 'finished');
    assert.equal((await w.store.getHost(w.hosts.h1!.uuid))!.onMaintenance, !enabled);
    await e.stop();
    await w.close();
  });
}

test('host return verdict: only a maintenance flag the engine set is cleared', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:10:00Z');
  const host = (over: Partial<Host> = {}): Host => ({
    id: 1,
    uuid: 'h',
    name: 'h1',
    type: 'COMPUTE',
    controlAttributes: 'SSH',
    reserved: false,
    onMaintenance: true,
    segmentUuid: 's',
    createdAt: t0,
    updatedAt: t0,
    deletedAt: null,
    deleted: false,
    ...over,
  });
  const stop = (over: Partial<Notification> = {}): Notification => ({
    id: 1,
    uuid: 'n1',
    type: 'COMPUTE_HOST',
    generatedTime: t0,
    sourceHostUuid: 'h',
    payload: HOST_DOWN,
    status: 'finished',
    claimedBy: null,
    claimExpiresAt: null,
    attempts: 1,
    lastError: null,
    createdAt: t0,
    updatedAt: t1,
    deletedAt: null,
    deleted: false,
    ...over,
  });
  assert.equal(hostReturnVerdict(host(), stop(), true).unset, true);
  assert.match(hostReturnVerdict(host(), stop(), false).because, /is false/);
  assert.match(hostReturnVerdict(host({ onMaintenance: false }), stop(), true).because, /not on maintenance/);
  assert.match(hostReturnVerdict(host(), undefined, true).because, /set by an operator/);
  assert.match(hostReturnVerdict(host(), stop({ status: 'error' }), true).because, /ended 'error'/);
  assert.match(hostReturnVerdict(host({ updatedAt: new Date(t1.getTime() + 1000) }), stop(), true).because, /changed after its recovery/);
});
