// The engine's status machine, claims and periodic jobs, on the real store and the simulated cloud.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/core/engine/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { world, HOST_DOWN } from './harness.ts';

const VM_FAILED = (id: string) => ({ event: 'LIFECYCLE', instance_uuid: id, vir_domain_event: 'STOPPED_FAILED' });

test('new -> running -> finished, recorded in the store with progress details', async () => {
  const w = await world();
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const e = w.engine();
  await e.start();
  const n = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  assert.equal(await w.drive(e.process(n.uuid)), 'done');
  const after = (await w.store.getNotification(n.uuid))!;
  assert.equal(after.status, 'finished');
  assert.equal(after.claimedBy, null, 'the claim is released');
  const tasks = await w.store.listTasks(n.uuid);
  assert.deepEqual(
    tasks.map((t) => [t.name, t.state]),
    [
      ['StopInstanceTask', 'SUCCESS'],
      ['StartInstanceTask', 'SUCCESS'],
      ['ConfirmInstanceActiveTask', 'SUCCESS'],
    ],
  );
  assert.equal(tasks[0]!.details[0]!.message, 'Stopping instance: vm1');
  assert.equal(w.cloud.servers.get('vm1')!.vmState, 'active');
  await e.stop();
  await w.close();
});

test('a disabled segment: new -> ignored without running', async () => {
  const w = await world({ segmentEnabled: false });
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.drive(e.process(n.uuid));
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'ignored');
  assert.deepEqual(await w.store.listTasks(n.uuid), []);
  await w.close();
});

test('a notification is processed once: a second process() of the same one is skipped', async () => {
  const w = await world();
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const e = w.engine();
  await e.start();
  const n = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  await w.drive(e.process(n.uuid));
  assert.equal(await w.drive(e.process(n.uuid)), 'skipped');
  assert.equal(w.events.filter((l) => l.startsWith('stop ')).length, 1);
  await w.close();
});

test('another controller holding the claim keeps this one off the notification', async () => {
  const w = await world();
  const e = w.engine('c1');
  await e.start();
  const n = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  assert.ok(await w.store.claimNotification(n.uuid, 'c2', 30_000, w.env.now(), true));
  assert.equal(await w.drive(e.process(n.uuid)), 'claimed-elsewhere');
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'new');
  await w.close();
});

test('one workflow per failed host: a second notification waits for the host claim, then runs', async () => {
  const w = await world();
  const e = w.engine();
  await e.start();
  const n1 = await w.notify('PROCESS', 'h1', { event: 'STOPPED', process_name: 'nova-compute' });
  const n2 = await w.notify('PROCESS', 'h1', { event: 'STOPPED', process_name: 'nova-compute' }, 1);
  assert.ok(await w.store.claimHostRecovery('h1', n1.uuid, 'other-controller', 30_000, w.env.now()));
  assert.equal(await w.drive(e.process(n2.uuid)), 'waiting-for-host');
  assert.equal((await w.store.getNotification(n2.uuid))!.status, 'new');
  await w.store.releaseHostRecovery('h1', n1.uuid);
  assert.equal(await w.drive(e.process(n2.uuid)), 'done');
  assert.equal((await w.store.getNotification(n2.uuid))!.status, 'finished');
  await w.close();
});

test('error is retried exactly once by the periodic job, then failed', async () => {
  const w = await world();
  const e = w.engine();
  await e.start();
  w.cloud.apiUp = false;
  const n = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  await w.drive(e.process(n.uuid));
  const first = (await w.store.getNotification(n.uuid))!;
  assert.equal(first.status, 'error');
  assert.match(first.lastError!, /Failed to execute instance failure flow/);
  await w.drive(e.runPeriodic());
  const second = (await w.store.getNotification(n.uuid))!;
  assert.equal(second.status, 'failed');
  assert.equal(second.attempts, 2);
  // The retry appended its tasks to the same list (Masakari's logbook).
  assert.deepEqual(
    (await w.store.listTasks(n.uuid)).map((t) => `${t.name}:${t.state}`),
    ['StopInstanceTask:REVERTED', 'StopInstanceTask:REVERTED'],
  );
  await w.drive(e.runPeriodic());
  assert.equal((await w.store.getNotification(n.uuid))!.attempts, 2, 'failed is final: no more retries');
  await w.close();
});

test('error whose retry succeeds ends finished', async () => {
  const w = await world();
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const e = w.engine();
  await e.start();
  w.cloud.apiUp = false;
  const n = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  await w.drive(e.process(n.uuid));
  w.cloud.apiUp = true;
  await w.drive(e.runPeriodic());
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
  await w.close();
});

test('new notifications nobody took are re-driven only once older than retry_notification_new_status_interval', async () => {
  const w = await world({ config: { engine: { retry_notification_new_status_interval: 60 } } });
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const e = w.engine();
  const fresh = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  await w.drive(e.start());
  // start() takes up new notifications at once (nobody holds them)...
  await w.drive(e.idle());
  assert.equal((await w.store.getNotification(fresh.uuid))!.status, 'finished');
  // ...while the periodic job waits for the age limit.
  w.cloud.addServer({ id: 'vm2', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const young = await w.notify('VM', 'h1', VM_FAILED('vm2'), 10);
  await w.drive(e.runPeriodic());
  assert.equal((await w.store.getNotification(young.uuid))!.status, 'new');
  await w.env.advance(60_000);
  await w.drive(e.runPeriodic());
  assert.equal((await w.store.getNotification(young.uuid))!.status, 'finished');
  await w.close();
});

test('notifications older than notifications_expired_interval are failed', async () => {
  const w = await world({ config: { engine: { notifications_expired_interval: 600 } } });
  const e = w.engine();
  const old = await w.notify('VM', 'h1', VM_FAILED('vm1'), 601);
  const n = (await w.store.claimNotification(old.uuid, 'dead-controller', 1_000_000, w.env.now(), true))!;
  await w.store.setNotificationStatus(n.uuid, 'running', w.env.now());
  await w.drive(e.start());
  await w.drive(e.runPeriodic());
  const after = (await w.store.getNotification(old.uuid))!;
  assert.equal(after.status, 'failed');
  assert.match(after.lastError!, /expired/);
  await w.close();
});

test('a running notification whose controller died is resumed after its lease ran out, skipping done tasks', async () => {
  const w = await world({ config: { engine: { claim_lease_seconds: 30 } } });
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const n = await w.notify('PROCESS', 'h1', { event: 'STOPPED', process_name: 'nova-compute' });
  // A controller that died after the first task: its records and its lease are in the store.
  const claimed = (await w.store.claimNotification(n.uuid, 'dead', 30_000, w.env.now(), true))!;
  await w.store.setNotificationStatus(n.uuid, 'running', w.env.now());
  const seq = await w.store.appendTask(n.uuid, 'DisableComputeNodeTask', 'RUNNING', w.env.now());
  await w.store.updateTask(n.uuid, seq, { state: 'SUCCESS', progress: 1, result: { run: claimed.attempts, key: 'process.pre.0', output: {} } }, w.env.now());
  w.cloud.hosts.get('h1')!.services.get('nova-compute')!.status = 'disabled'; // what that task did
  const e = w.engine('c1');
  await w.drive(e.start());
  await w.drive(e.runPeriodic());
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'running', 'the lease is still valid');
  await w.env.advance(31_000);
  await w.drive(e.runPeriodic());
  await w.drive(e.idle());
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
  const tasks = await w.store.listTasks(n.uuid);
  assert.deepEqual(
    tasks.map((t) => t.name),
    ['DisableComputeNodeTask', 'ConfirmComputeNodeDisabledTask'],
  );
  assert.equal(w.events.filter((l) => l.startsWith('disable-service')).length, 0, 'the completed disable task did not run again');
  await w.close();
});

test('without a fencer, host recovery ends in error and nothing is evacuated (fencing_required defaults to true)', async () => {
  const w = await world();
  w.cloud.addServer({ id: 'vm1', host: 'h1' });
  w.cloud.powerOff('h1');
  const e2 = createEngine({ store: w.store, compute: w.driver, config: w.config, env: w.env, log: silentLogger, ownerId: 'c2', periodic: false });
  await e2.start();
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.drive(e2.process(n.uuid));
  const after = (await w.store.getNotification(n.uuid))!;
  assert.equal(after.status, 'error');
  assert.match(after.lastError!, /no fencer is configured/);
  assert.equal(w.events.filter((l) => l.startsWith('evacuate')).length, 0);
  const tasks = await w.store.listTasks(n.uuid);
  assert.equal(tasks[0]!.name, 'FenceHostTask');
  await w.close();
});

test('stop() aborts a running workflow and releases its claims for another controller', async () => {
  const w = await world();
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  w.cloud.powerOutcome.set('vm1', 'stuck');
  const e = w.engine();
  await e.start();
  const n = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  const running = e.process(n.uuid);
  await w.env.advance(5_000);
  const stopping = e.stop();
  assert.equal(await w.drive(running), 'aborted');
  await w.drive(stopping);
  const after = (await w.store.getNotification(n.uuid))!;
  assert.equal(after.status, 'running', 'left for the next controller to resume');
  assert.equal(after.claimedBy, null);
  await w.close();
});

test('a notification accepted before the engine started stays new and is taken up by start()', async () => {
  const w = await world();
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const e = w.engine();
  const n = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  e.notificationAccepted(n);
  await w.env.advance(1_000);
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'new');
  await w.drive(e.start());
  await w.drive(e.idle());
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
  await w.close();
});
