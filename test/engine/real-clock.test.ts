// The production path: the same engine on the wall clock (realEnv), with the simulated cloud answering in
// milliseconds. Guards against anything that only works on the virtual clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/core/config/load.ts';
import { createEngine, fencerGate } from '../../src/core/engine/index.ts';
import { realEnv } from '../../src/core/env.ts';
import { silentLogger } from '../../src/core/log.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { SimCloud, SimComputeDriver } from '../../src/drivers/compute/sim/index.ts';
import { SimFencer } from '../../src/drivers/fence/sim/index.ts';

test('host recovery on the wall clock: fenced, evacuated, finished', { timeout: 30_000 }, async () => {
  const store = openSqliteStore({ path: ':memory:' });
  const cloud = new SimCloud(realEnv, { apiMs: 1, evacuateCallMs: 2, rebuildMinMs: 20, rebuildMaxMs: 40, stopMs: 5, startMs: 5, serviceDownMs: 50 });
  const config = parseConfig({ engine: { verify_interval: 0.01 } }, 'test');
  const engine = createEngine({
    store,
    compute: new SimComputeDriver(cloud),
    fence: fencerGate(new SimFencer(cloud, 5)),
    config,
    env: realEnv,
    log: silentLogger,
    ownerId: 'wall-clock',
  });
  try {
    const seg = await store.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
    const h1 = await store.createHost(seg.uuid, { name: 'h1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date());
    await store.createHost(seg.uuid, { name: 'h2', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date());
    cloud.addHost('h1');
    cloud.addHost('h2');
    for (let i = 1; i <= 5; i++) cloud.addServer({ id: `vm${i}`, host: 'h1', metadata: i % 2 ? { HA_Enabled: 'True' } : {} });
    await engine.start();
    const r = await store.createNotification(
      {
        uuid: realEnv.uuid(),
        type: 'COMPUTE_HOST',
        generatedTime: new Date(),
        sourceHostUuid: h1.uuid,
        payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
      },
      180_000,
      new Date(),
    );
    assert.ok(r.created);
    assert.equal(await engine.process(r.notification.uuid), 'done');
    assert.equal((await store.getNotification(r.notification.uuid))!.status, 'finished');
    for (const s of cloud.servers.values()) {
      assert.equal(s.host, 'h2');
      assert.equal(s.vmState, 'active');
      assert.equal(s.locked, false);
    }
    assert.equal(cloud.hosts.get('h1')!.power, 'off');
  } finally {
    await engine.stop();
    await store.close();
  }
});
