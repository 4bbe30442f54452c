// The controller's metrics after a real recovery: the controller role with the libvirt recovery driver on libvirt's
// test driver (no daemon), a host failure evacuated (fencing explicitly off), then a scrape of its own metrics
// listener. Checks the counters and histograms the recovery must have moved, the API's route labels (patterns,
// never raw ids), that neither port serves the other's content, and that promtool accepts the output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/log.ts';
import { libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import { requireComponent } from '../support/components.ts';
import { failHostOnLibvirt, waitForEnd } from '../support/libvirt-host-failure.ts';
import { testDomainXml } from '../drivers/libvirt-compute/fixtures.ts';
import { promtoolAvailable, promtoolCheck, samples, scrape, value } from './scrape.ts';

const U1 = '55555555-5555-4555-8555-555555555501';
const U2 = '55555555-5555-4555-8555-555555555502';

test('a host failure recovery shows in the controller metrics; promtool accepts them', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;
  if (!requireComponent(t, 'promtool (Debian prometheus)', promtoolAvailable())) return;
  const f = await failHostOnLibvirt(t, [testDomainXml('vm1', U1, true), testDomainXml('vm2', U2, true)], {
    dirPrefix: 'met-ctl-',
    fencingRequired: false,
    log: silentLogger,
    overrides: { metrics: { listen: '127.0.0.1:0' } },
  });
  const { ctl, base } = f;
  assert.ok(ctl.metricsPort !== null && ctl.metricsPort !== ctl.port, 'a listener of its own, not the API port');
  const { status } = await waitForEnd(f, 60_000);
  assert.equal(status, 'finished');
  await fetch(`${base}/segments/${f.segment}/hosts`);
  await fetch(`${base}/segments/not-a-segment`);

  const text = await scrape(ctl.metricsPort);
  assert.equal(value(text, 'masakari_notifications_accepted_total', { type: 'COMPUTE_HOST' }), 1);
  assert.equal(value(text, 'masakari_notifications_finished_total', { type: 'COMPUTE_HOST', status: 'finished' }), 1);
  assert.equal(value(text, 'masakari_recovery_duration_seconds_count', { type: 'COMPUTE_HOST', status: 'finished' }), 1);
  assert.ok(value(text, 'masakari_recovery_duration_seconds_sum', { type: 'COMPUTE_HOST', status: 'finished' })! > 0);
  assert.equal(value(text, 'masakari_recovery_start_delay_seconds_count', { type: 'COMPUTE_HOST' }), 1);
  // Fencing opted out: the phase ran (and said so) without a fence attempt.
  assert.equal(value(text, 'masakari_recovery_fencing_duration_seconds_count', { result: 'success' }), 1);
  assert.equal(value(text, 'masakari_recovery_service_disable_duration_seconds_count', { result: 'success' }), 1);
  assert.equal(value(text, 'masakari_recovery_instance_evacuation_duration_seconds_count', { result: 'succeeded' }), 2, 'one per instance');
  assert.equal(value(text, 'masakari_recovery_task_duration_seconds_count', { task: 'EvacuateInstancesTask', result: 'success' }), 1);
  assert.equal(value(text, 'masakari_recovery_instances_in_flight', { action: 'evacuation' }), 0, 'none left in flight');
  assert.equal(value(text, 'masakari_engine_leases_held'), 0);
  assert.equal(value(text, 'masakari_recovery_oldest_running_age_seconds'), 0);

  // API requests by route PATTERN: the POST, the GETs of one notification and of one segment's hosts.
  assert.equal(value(text, 'masakari_api_request_duration_seconds_count', { method: 'POST', route: '/v1/notifications', code: '202' }), 1);
  assert.ok(value(text, 'masakari_api_request_duration_seconds_count', { method: 'GET', route: '/v1/notifications/:notification_id', code: '200' })! >= 1);
  assert.equal(value(text, 'masakari_api_request_duration_seconds_count', { method: 'GET', route: '/v1/segments/:segment_id/hosts', code: '200' }), 1);
  const routes = new Set(samples(text).flatMap((s) => (s.labels.route ? [s.labels.route] : [])));
  for (const route of routes) assert.doesNotMatch(route, /[0-9a-f]{8}-|not-a-segment/, `route label ${route} is a raw path`);

  // Each port serves only its own: no metrics on the API port, no API on the metrics port.
  assert.doesNotMatch(await (await fetch(`http://127.0.0.1:${ctl.port}/metrics`)).text(), /masakari_/);
  assert.equal((await fetch(`http://127.0.0.1:${ctl.metricsPort}/v1/segments`)).status, 404);

  const check = promtoolCheck(text);
  assert.ok(check.ok, check.output);
});
