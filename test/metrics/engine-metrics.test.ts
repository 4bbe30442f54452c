// The engine's metrics on the engine test world (real engine and SQLite store, simulated cloud and fencer, virtual
// clock): the paths the end-to-end recoveries do not take — fence attempts, the periodic retry and give-up, expiry,
// a lease taken over from a dead controller, the mass-failure pause — and durations on the virtual clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controllerMetrics } from '../../src/core/observe/metric-set.ts';
import { PromRegistry } from '../../src/drivers/metrics/prom.ts';
import { world, HOST_DOWN } from '../engine/harness.ts';
import { value } from './scrape.ts';

const VM_FAILED = (id: string) => ({ event: 'LIFECYCLE', instance_uuid: id, vir_domain_event: 'STOPPED_FAILED' });

function metered() {
  const registry = new PromRegistry({ defaultMetrics: false });
  return { registry, metrics: controllerMetrics(registry) };
}

test('host failure: a fence attempt, phase histograms on the virtual clock, nothing left in flight', async () => {
  const w = await world();
  w.cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'true' } });
  const { registry, metrics } = metered();
  const e = w.engine('c1', { metrics });
  await e.start();
  w.cloud.powerOff('h1');
  const n = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  assert.equal(await w.drive(e.process(n.uuid)), 'done');
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
  const text = await registry.metrics();
  assert.equal(value(text, 'masakari_fence_attempts_total', { result: 'fenced' }), 1);
  assert.equal(value(text, 'masakari_recovery_fencing_duration_seconds_count', { result: 'success' }), 1);
  // The simulated rebuild takes 5 virtual seconds: the evacuation's and the whole recovery's durations include it.
  assert.ok(value(text, 'masakari_recovery_instance_evacuation_duration_seconds_sum', { result: 'succeeded' })! >= 5);
  assert.ok(value(text, 'masakari_recovery_duration_seconds_sum', { type: 'COMPUTE_HOST', status: 'finished' })! >= 5);
  assert.equal(value(text, 'masakari_recovery_instances_in_flight', { action: 'evacuation' }), 0);
  assert.equal(value(text, 'masakari_engine_leases_held'), 0);
  await w.close();
});

test('error, the periodic retry, failed; expiry; a lease taken over', async () => {
  const w = await world({ config: { engine: { notifications_expired_interval: 600, claim_lease_seconds: 30 } } });
  const { registry, metrics } = metered();
  const e = w.engine('c1', { metrics });
  // A running notification of a controller that died: its lease runs out, the orphan scan at start takes it over.
  w.cloud.addServer({ id: 'vm2', host: 'h2', metadata: { HA_Enabled: 'true' } });
  const orphan = await w.notify('VM', 'h2', VM_FAILED('vm2'));
  const claimed = (await w.store.claimNotification(orphan.uuid, 'c-dead', 30_000, w.env.now(), true))!;
  await w.store.setNotificationStatus(claimed.uuid, 'running', w.env.now());
  // A notification too old: expired by the periodic job.
  const old = await w.notify('VM', 'h1', VM_FAILED('vm-old'), 601);
  await w.store.claimNotification(old.uuid, 'c-other', 1_000_000, w.env.now(), true);
  await w.env.advance(31_000);
  await w.drive(e.start());
  await w.drive(e.idle());
  assert.equal((await w.store.getNotification(orphan.uuid))!.status, 'finished');

  w.cloud.apiUp = false;
  const n = await w.notify('VM', 'h1', VM_FAILED('vm1'));
  await w.drive(e.process(n.uuid));
  await w.drive(e.runPeriodic());
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'failed');
  assert.equal((await w.store.getNotification(old.uuid))!.status, 'failed');

  const text = await registry.metrics();
  assert.equal(value(text, 'masakari_engine_leases_taken_over_total'), 1);
  assert.equal(value(text, 'masakari_periodic_retries_total', { kind: 'resume' }), 1);
  assert.equal(value(text, 'masakari_periodic_retries_total', { kind: 'error' }), 1);
  assert.equal(value(text, 'masakari_notifications_finished_total', { type: 'VM', status: 'error' }), 2, 'the first attempt and the retry');
  assert.equal(value(text, 'masakari_notifications_expired_total', { type: 'VM' }), 1);
  assert.equal(value(text, 'masakari_notifications_finished_total', { type: 'VM', status: 'failed' }), 2, 'the give-up and the expiry');
  assert.equal(value(text, 'masakari_notifications_finished_total', { type: 'VM', status: 'finished' }), 1);
  assert.equal(value(text, 'masakari_engine_leases_held'), 0);
  await w.close();
});

test('the mass-failure guard pausing a host recovery is counted', async () => {
  const w = await world({ hosts: ['h1', 'h2', 'h3'] });
  const { registry, metrics } = metered();
  const e = w.engine('c1', { metrics });
  await e.start();
  w.cloud.powerOff('h1');
  w.cloud.powerOff('h2');
  const n1 = await w.notify('COMPUTE_HOST', 'h1', HOST_DOWN);
  await w.notify('COMPUTE_HOST', 'h2', HOST_DOWN, 10);
  await w.drive(e.process(n1.uuid));
  assert.equal((await w.store.getNotification(n1.uuid))!.status, 'error');
  const text = await registry.metrics();
  assert.equal(value(text, 'masakari_mass_failure_pauses_total'), 1);
  assert.equal(value(text, 'masakari_fence_attempts_total', { result: 'fenced' }), undefined, 'paused before any fencing');
  await e.stop();
  await w.close();
});
