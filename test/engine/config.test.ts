// The engine's configuration keys: Masakari's names and defaults, our safer defaults, clear errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../src/core/config/load.ts';

test('defaults: Masakari timings, fencing required, 32 evacuations in flight, polling instead of sleeping', () => {
  const c = parseConfig({}, 't');
  assert.equal(c.engine.wait_period_after_service_update, 180);
  assert.equal(c.engine.wait_period_after_evacuation, 90);
  assert.equal(c.engine.host_failure_recovery_threads, 32);
  assert.equal(c.engine.claim_lease_seconds, 30);
  assert.equal(c.host_failure.fencing_required, true);
  assert.equal(c.host_failure.service_update_wait, 'poll');
  assert.equal(c.host_failure.ha_enabled_instance_metadata_key, 'HA_Enabled');
  assert.deepEqual(c.taskflow_driver_recovery_flows.host_rh_failure_recovery_tasks, {
    pre: ['disable_compute_service_task'],
    main: ['prepare_HA_enabled_instances_task', 'evacuate_instances_task'],
    post: [],
  });
});

test('bad engine settings are refused with their path', () => {
  assert.throws(
    () => parseConfig({ host_failure: { service_update_wait: 'sleep', evacuation_retries: -1 }, engine: { host_failure_recovery_threads: 0 } }, 't'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const paths = e.problems.map((p) => p.path).sort();
      assert.deepEqual(paths, ['engine.host_failure_recovery_threads', 'host_failure.evacuation_retries', 'host_failure.service_update_wait']);
      return true;
    },
  );
  assert.throws(() => parseConfig({ host_failure: { fencing_requird: false } }, 't'), /host_failure\.fencing_requird: unknown key/);
});
