// The compute agent's metrics: the compute role with the process and host monitors (crm_mon replaced by `cat` of a
// recorded output) delivering to a controller of the test's own that refuses the first attempt with 503. The scrape
// shows the monitor events, the failed restart, the queued/failed/delivered counters, the emptied backlog and the
// host monitor's quorum and sample age; promtool accepts the output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startCompute } from '../../src/roles/compute.ts';
import { requireComponent } from '../support/components.ts';
import { crmMonFile } from '../drivers/cluster/pacemaker/reference.ts';
import { FakeController, waitFor } from '../delivery/helpers.ts';
import { promtoolAvailable, promtoolCheck, scrape, value } from './scrape.ts';

test('monitor events, delivery counters, backlog and host monitor gauges of the compute agent; promtool accepts them', async (t) => {
  if (!requireComponent(t, 'promtool (Debian prometheus)', promtoolAvailable())) return;
  const dir = mkdtempSync(join(tmpdir(), 'met-cmp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The first delivery attempt meets a controller in trouble (503: retried), the second is accepted.
  const c = await new FakeController((_r, i) => (i === 0 ? { status: 503, body: {} } : { status: 202, body: {} })).listen();
  t.after(() => c.close());
  const list = join(dir, 'process_list.yaml');
  writeFileSync(list, `- process_name: /nonexistent/met-never-running-daemon\n  restart_command: /bin/false\n  run_as_root: False\n`);
  const config = parseConfig(
    {
      data_dir: join(dir, 'data'),
      metrics: { listen: '127.0.0.1:0' },
      compute: {
        hostname: 'node1',
        controller: { endpoint: c.endpoint },
        delivery: { retry_initial_seconds: 0.05, retry_max_seconds: 0.1 },
        process_monitor: { enabled: true, process_list_path: list, check_interval: 60, restart_retries: 0, restart_interval: 0.01 },
        host_monitor: { enabled: true, monitoring_interval: 0.05, pacemaker: { crm_mon_command: ['cat', crmMonFile('01-all-online.xml')] } },
      },
    },
    'test',
  );
  const role = await startCompute(config, silentLogger);
  t.after(() => role.stop());
  assert.ok(role.metricsPort !== null);
  await waitFor('the PROCESS notification delivered', () => c.received.length >= 2);
  await waitFor('the outbox recorded the delivery', () => role.outbox.status().sent === 1);

  const text = await scrape(role.metricsPort);
  assert.equal(value(text, 'masakari_monitor_events_total', { monitor: 'process', kind: 'process_down' }), 1);
  assert.equal(value(text, 'masakari_process_monitor_restarts_total', { process: '/nonexistent/met-never-running-daemon', result: 'failed' }), 1);
  assert.equal(value(text, 'masakari_outbox_queued_total', { type: 'PROCESS' }), 1);
  assert.equal(value(text, 'masakari_outbox_delivery_failures_total', { type: 'PROCESS' }), 1);
  assert.equal(value(text, 'masakari_outbox_delivered_total', { type: 'PROCESS', result: 'accepted' }), 1);
  assert.equal(value(text, 'masakari_outbox_backlog', { state: 'pending' }), 0);
  assert.equal(value(text, 'masakari_outbox_backlog', { state: 'rejected' }), 0);
  assert.equal(value(text, 'masakari_outbox_oldest_pending_age_seconds'), 0);
  assert.equal(value(text, 'masakari_host_monitor_quorate'), 1);
  const age = value(text, 'masakari_host_monitor_last_sample_age_seconds');
  assert.ok(age !== undefined && age >= 0 && age < 30, `last sample age ${age}`);
  assert.ok(value(text, 'process_start_time_seconds')! > 0, "Node's process metrics (restarts of the agent itself)");
  // Only what the agent does: no controller metric in a compute agent's output.
  assert.equal(value(text, 'masakari_engine_leases_held'), undefined);

  const check = promtoolCheck(text);
  assert.ok(check.ok, check.output);
});
