// GET /v1/x-masakari/whatif at the API edge: policy, bad input in Masakari's error format (never a 500), the
// project-in-URL form, and a backend that cannot be asked (503). The real API app over a real SQLite store, with
// the simulated cloud as the compute backend (real clock, no latency).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realEnv } from '../../src/core/env.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { SimCloud, SimComputeDriver } from '../../src/drivers/compute/sim/index.ts';
import { errorOf, seed, testApi } from '../api/support.ts';
import { runCli } from '../support/cli.ts';
import type { Store } from '../../src/core/store/types.ts';

function setup(policy: Record<string, string> = {}) {
  const cloud = new SimCloud(realEnv, { apiMs: 0 });
  const compute = new SimComputeDriver(cloud);
  const config = parseConfig({ api: { policy } }, 'test');
  // testApi opens the store: the planner gets it once it exists (the same object, filled in).
  const whatif = { store: undefined as unknown as Store, compute, config, fencingConfigured: true };
  const api = testApi({ api: { policy } }, { extensions: { whatif } });
  whatif.store = api.store;
  return { api, cloud };
}

test('whatif: the plan for a known host; bad input is a 400 in the badRequest envelope; unknown host 404', async () => {
  const { api, cloud } = setup();
  await seed(api, 'seg-1', ['h1', 'h2']);
  cloud.addHost('h1');
  cloud.addHost('h2', { capacity: { vcpus: 4, ramMb: 4096, diskGb: 40 } });
  cloud.addServer({ id: 'vm1', host: 'h1', metadata: { HA_Enabled: 'True' }, resources: { vcpus: 1, ramMb: 512, diskGb: 1 } });
  try {
    const ok = await api.call('GET', '/v1/x-masakari/whatif?lose=h1');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.host, 'h1');
    assert.equal(ok.body.segment, 'seg-1');
    assert.equal(ok.body.recovery_method, 'auto');
    assert.deepEqual(ok.body.instances, [{ id: 'vm1', name: 'vm1', recovered: true, target: null, candidates: ['h2'], reason: null }]);
    assert.deepEqual(ok.body.capacity, [{ host: 'h2', before: { vcpus: 4, ram_mb: 4096, disk_gb: 40 }, after: { vcpus: 3, ram_mb: 3584, disk_gb: 39 } }]);
    assert.equal(ok.body.shortfall, null);
    assert.equal(typeof ok.body.estimated_makespan_seconds, 'number');

    // The /v1/{project_id}/ form reaches it too (noauth2 has no project, so it is refused like Masakari's resources).
    const withProject = await api.call('GET', '/v1/0123abcd/x-masakari/whatif?lose=h1');
    assert.notEqual(withProject.status, 404);

    for (const q of ['', '?lose=', '?lose=%20', '?lose=h1&lose=h2']) {
      const r = await api.call('GET', `/v1/x-masakari/whatif${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(errorOf(r).key, 'badRequest');
      assert.equal(errorOf(r).code, 400);
    }
    const unknown = await api.call('GET', '/v1/x-masakari/whatif?lose=nope');
    assert.equal(unknown.status, 404);
    assert.equal(errorOf(unknown).key, 'itemNotFound');

    cloud.apiUp = false;
    const down = await api.call('GET', '/v1/x-masakari/whatif?lose=h1');
    assert.equal(down.status, 503, down.text);
    assert.equal(errorOf(down).key, 'serviceUnavailable');
  } finally {
    await api.close();
  }
});

test('whatif: policy masakari_ext:whatif:get decides (403 when it denies)', async () => {
  const { api, cloud } = setup({ 'masakari_ext:whatif:get': '!' });
  await seed(api, 'seg-1', ['h1']);
  cloud.addHost('h1');
  try {
    const r = await api.call('GET', '/v1/x-masakari/whatif?lose=h1');
    assert.equal(r.status, 403);
    assert.equal(errorOf(r).key, 'forbidden');
  } finally {
    await api.close();
  }
});

test('whatif without a compute driver: 400 saying why', async () => {
  const api = testApi();
  await seed(api, 'seg-1', ['h1']);
  try {
    const r = await api.call('GET', '/v1/x-masakari/whatif?lose=h1');
    assert.equal(r.status, 400);
    assert.match(errorOf(r).message, /compute driver/);
  } finally {
    await api.close();
  }
});

test('masakari whatif: an unreachable controller is exit 1 with the reason', async () => {
  const r = await runCli(['whatif', '--lose', 'h1', '--endpoint', 'http://127.0.0.1:9/v1'], { env: { MASAKARI_CONFIG: '' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /GET http:\/\/127\.0\.0\.1:9\/v1\/x-masakari\/whatif\?lose=h1: cannot reach the controller/);
});
