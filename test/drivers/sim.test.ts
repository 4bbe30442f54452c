// The simulated cloud passes the ComputeDriver contract (on the wall clock, with millisecond latencies), and its
// fencer and fault injection behave as the scenarios assume.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realEnv } from '../../src/core/env.ts';
import { VirtualEnv } from '../../src/core/env-virtual.ts';
import { ComputeDriverError } from '../../src/core/ports/compute.ts';
import { SimCloud, SimComputeDriver } from '../../src/drivers/compute/sim/index.ts';
import { SimFencer } from '../../src/drivers/fence/sim/index.ts';
import { fencerGate } from '../../src/core/engine/index.ts';
import { computeDriverContract } from './compute-contract.ts';

const fastLatencies = { apiMs: 1, evacuateCallMs: 1, rebuildMinMs: 5, rebuildMaxMs: 15, stopMs: 5, startMs: 5, serviceDownMs: 20 };

for (const batchObserve of [false, true]) {
  computeDriverContract(batchObserve ? 'sim (batched observeServers)' : 'sim', async () => {
    const cloud = new SimCloud(realEnv, fastLatencies);
    cloud.addHost('hv-a');
    cloud.addHost('hv-b');
    cloud.addAggregate('az1', ['hv-a']);
    cloud.addServer({ id: '11111111-2222-3333-4444-555555555555', name: 'web', host: 'hv-a', metadata: { HA_Enabled: 'True' } });
    cloud.addServer({ id: 'other', host: 'hv-a' });
    return {
      driver: new SimComputeDriver(cloud, { batchObserve }),
      hostA: 'hv-a',
      hostB: 'hv-b',
      serverId: '11111111-2222-3333-4444-555555555555',
      failHost: async (h) => cloud.powerOff(h),
      aggregates: true,
      settleMs: 2_000,
      cleanup: async () => {},
    };
  });
}

test('injected faults fail the matching call the given number of times', async () => {
  const env = new VirtualEnv();
  const cloud = new SimCloud(env, { apiMs: 10 });
  cloud.addHost('h1');
  cloud.addServer({ id: 'vm1', host: 'h1' });
  cloud.faults.push({ op: 'getServer', target: 'vm1', code: 'unavailable', times: 1 });
  const d = new SimComputeDriver(cloud);
  // Attach the expectation before the clock runs, so the rejection is handled when it happens.
  const first = assert.rejects(d.getServer('vm1'), (e: unknown) => e instanceof ComputeDriverError && e.code === 'unavailable');
  await env.run();
  await first;
  const second = d.getServer('vm1');
  await env.run();
  assert.equal((await second).id, 'vm1');
});

test('Nova outage: every call fails with unavailable', async () => {
  const env = new VirtualEnv();
  const cloud = new SimCloud(env);
  cloud.addHost('h1');
  cloud.apiUp = false;
  const p = assert.rejects(new SimComputeDriver(cloud).hostExists('h1'), (e: unknown) => e instanceof ComputeDriverError && e.code === 'unavailable');
  await env.run();
  await p;
});

test('a service is reported down only after the heartbeat timeout, or when forced down', async () => {
  const env = new VirtualEnv();
  const cloud = new SimCloud(env, { serviceDownMs: 60_000 });
  cloud.addHost('h1');
  cloud.powerOff('h1');
  assert.equal(cloud.serviceView('h1', 'nova-compute')!.state, 'up');
  await env.advance(60_000);
  assert.equal(cloud.serviceView('h1', 'nova-compute')!.state, 'down');
});

test('the scheduler picks the least loaded enabled, live host; none -> the server ends in error', async () => {
  const env = new VirtualEnv();
  const cloud = new SimCloud(env, { serviceDownMs: 0 });
  cloud.addHost('h1');
  cloud.addHost('h2');
  cloud.addHost('h3');
  cloud.addServer({ id: 'x', host: 'h2' });
  assert.equal(cloud.schedule('h1'), 'h3');
  cloud.hosts.get('h3')!.services.get('nova-compute')!.status = 'disabled';
  assert.equal(cloud.schedule('h1'), 'h2');
  cloud.powerOff('h2');
  assert.equal(cloud.schedule('h1'), undefined);
});

test('an evacuation that completes while the source host still has power is reported as a violation', async () => {
  const env = new VirtualEnv();
  const cloud = new SimCloud(env, { rebuildMinMs: 10, rebuildMaxMs: 10 });
  cloud.addHost('h1');
  cloud.addHost('h2');
  const s = cloud.addServer({ id: 'vm1', host: 'h1' });
  cloud.beginRebuild(s, 'h2');
  await env.run();
  assert.equal(s.host, 'h2');
  assert.deepEqual(cloud.violations, ['vm1 active on h2 while h1 still has power']);
});

test('sim fencer: powers off and the gate accepts only a confirmed off', async () => {
  const env = new VirtualEnv();
  const cloud = new SimCloud(env);
  cloud.addHost('h1');
  cloud.addHost('h2');
  const fencer = new SimFencer(cloud, 100);
  const gate = fencerGate(fencer);
  const ok = gate.confirmFenced('h1', { failedAt: env.now() });
  await env.run();
  const ev = await ok;
  assert.equal(ev.fenced, true);
  assert.equal(cloud.hosts.get('h1')!.power, 'off');

  fencer.faults.set('h2', 'no_effect');
  const lie = gate.confirmFenced('h2', { failedAt: env.now() });
  await env.run();
  const ev2 = await lie;
  assert.equal(ev2.fenced, false);
  assert.match(ev2.fenced ? '' : ev2.reason, /power state is 'on'/);

  fencer.faults.set('h2', 'error');
  const err = gate.confirmFenced('h2', { failedAt: env.now() });
  await env.run();
  const ev3 = await err;
  assert.equal(ev3.fenced, false);
  assert.match(ev3.fenced ? '' : ev3.reason, /did not answer/);

  const unknown = gate.confirmFenced('nope', { failedAt: env.now() });
  await env.run();
  assert.equal((await unknown).fenced, false);
});
