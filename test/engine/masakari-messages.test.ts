// Progress details must read exactly as Masakari's (API 1.1 clients and dashboards show them). The expected texts
// are the ones recorded from Masakari 14.0.2 (reference captures engine_host_auto_evacuate, engine_host_reserved_host_
// evacuate, engine_instance_ha_enabled_restart, engine_instance_not_ha_enabled_skipped,
// engine_process_nova_compute_stopped, engine_host_rh_priority_no_reserved_no_instances), with the same host names and
// instance ids. Our FenceHostTask comes first in host flows; Masakari has no such task.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/core/store/types.ts';
import { world, HOST_DOWN } from './harness.ts';

const details = async (store: Store, uuid: string) =>
  (await store.listTasks(uuid)).map((t) => ({ name: t.name, state: t.state, messages: t.details.map((d) => `${d.progress.toFixed(1)} ${d.message}`) }));

const A = (n: number) => `aaaaaaaa-0000-0000-0000-00000000000${n}`;

test('host failure, auto: the messages of engine_host_auto_evacuate', async () => {
  const w = await world({ hosts: ['compute-h1', 'compute-h2', 'compute-h3'] });
  w.cloud.addServer({ id: A(1), host: 'compute-h1', metadata: { HA_Enabled: 'True' } });
  w.cloud.addServer({ id: A(2), host: 'compute-h1' });
  w.cloud.addServer({ id: A(3), host: 'compute-h1', metadata: { HA_Enabled: 'True' } });
  w.cloud.powerOff('compute-h1');
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', 'compute-h1', HOST_DOWN);
  await w.drive(e.process(n.uuid));
  const got = await details(w.store, n.uuid);
  assert.equal(got[0]!.name, 'FenceHostTask');
  assert.deepEqual(got.slice(1), [
    {
      name: 'DisableComputeServiceTask',
      state: 'SUCCESS',
      messages: ["0.0 Disabling compute service on host: 'compute-h1'", "1.0 Disabled compute service on host: 'compute-h1'"],
    },
    {
      name: 'PrepareHAEnabledInstancesTask',
      state: 'SUCCESS',
      messages: [
        '0.0 Preparing instances for evacuation',
        "0.3 Total instances running on failed host 'compute-h1' is 3",
        "0.6 Total HA Enabled instances count: '2'",
        "0.7 Total Non-HA Enabled instances count: '1'",
        "0.8 All instances (HA Enabled/Non-HA Enabled) should be considered for evacuation. Total count is: '3'",
        `1.0 Instances to be evacuated are: '${A(1)},${A(3)},${A(2)}'`,
      ],
    },
    {
      name: 'EvacuateInstancesTask',
      state: 'SUCCESS',
      messages: [
        `0.0 Start evacuation of instances from failed host 'compute-h1', instance uuids are: '${A(1)},${A(3)},${A(2)}'`,
        `0.5 Evacuation of instance started: '${A(1)}'`,
        `0.5 Evacuation of instance started: '${A(3)}'`,
        `0.5 Evacuation of instance started: '${A(2)}'`,
        `0.7 Successfully evacuate instances '${A(1)},${A(2)},${A(3)}' from host 'compute-h1'`,
        '1.0 Evacuation process completed!',
      ],
    },
  ]);
  await w.close();
});

test('host failure, reserved_host: the messages of engine_host_reserved_host_evacuate', async () => {
  const w = await world({ method: 'reserved_host', hosts: ['compute-r1'], reserved: ['compute-r2'] });
  const B = 'bbbbbbbb-0000-0000-0000-000000000001';
  w.cloud.addServer({ id: B, host: 'compute-r1', metadata: { HA_Enabled: 'True' } });
  w.cloud.powerOff('compute-r1');
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', 'compute-r1', HOST_DOWN);
  await w.drive(e.process(n.uuid));
  const got = await details(w.store, n.uuid);
  assert.deepEqual(got[3], {
    name: 'EvacuateInstancesTask',
    state: 'SUCCESS',
    messages: [
      `0.0 Start evacuation of instances from failed host 'compute-r1', instance uuids are: '${B}'`,
      "0.1 Enabling reserved host: 'compute-r2'",
      `0.5 Evacuation of instance started: '${B}'`,
      `0.7 Successfully evacuate instances '${B}' from host 'compute-r1'`,
      '1.0 Evacuation process completed!',
    ],
  });
  // As in engine_host_reserved_host_after_hosts: the reserved host is no longer reserved, the failed one on maintenance.
  assert.equal((await w.store.getHostByName('compute-r2'))!.reserved, false);
  assert.equal((await w.store.getHostByName('compute-r1'))!.onMaintenance, true);
  await w.close();
});

test('rh_priority without reserved hosts and instances: auto, skipped, tasks REVERTED, finished', async () => {
  const w = await world({ method: 'rh_priority', hosts: ['compute-p1', 'compute-p2'] });
  w.cloud.powerOff('compute-p1');
  const e = w.engine();
  await e.start();
  const n = await w.notify('COMPUTE_HOST', 'compute-p1', HOST_DOWN);
  await w.drive(e.process(n.uuid));
  assert.equal((await w.store.getNotification(n.uuid))!.status, 'finished');
  const got = await details(w.store, n.uuid);
  assert.deepEqual(
    got.slice(1).map((t) => [t.name, t.state]),
    [
      ['DisableComputeServiceTask', 'REVERTED'],
      ['PrepareHAEnabledInstancesTask', 'REVERTED'],
    ],
  );
  assert.equal(got[2]!.messages.at(-1), "1.0 Skipped host 'compute-p1' recovery as no instances needs to be evacuated");
  await w.close();
});

test('instance failure: the messages of engine_instance_ha_enabled_restart and _not_ha_enabled_skipped', async () => {
  const w = await world({ hosts: ['compute-i1'] });
  const C = (n: number) => `cccccccc-0000-0000-0000-00000000000${n}`;
  w.cloud.addServer({ id: C(1), host: 'compute-i1', metadata: { HA_Enabled: 'True' } });
  w.cloud.addServer({ id: C(2), host: 'compute-i1' });
  const e = w.engine();
  await e.start();
  const ha = await w.notify('VM', 'compute-i1', { event: 'LIFECYCLE', instance_uuid: C(1), vir_domain_event: 'STOPPED_FAILED' });
  await w.drive(e.process(ha.uuid));
  assert.deepEqual(await details(w.store, ha.uuid), [
    { name: 'StopInstanceTask', state: 'SUCCESS', messages: [`0.0 Stopping instance: ${C(1)}`, `1.0 Stopped instance: '${C(1)}'`] },
    { name: 'StartInstanceTask', state: 'SUCCESS', messages: [`0.0 Starting instance: '${C(1)}'`, `1.0 Instance started: '${C(1)}'`] },
    {
      name: 'ConfirmInstanceActiveTask',
      state: 'SUCCESS',
      messages: [`0.0 Confirming instance '${C(1)}' vm_state is ACTIVE`, `1.0 Confirmed instance '${C(1)}' vm_state is ACTIVE`],
    },
  ]);
  const plain = await w.notify('VM', 'compute-i1', { event: 'LIFECYCLE', instance_uuid: C(2), vir_domain_event: 'STOPPED_FAILED' });
  await w.drive(e.process(plain.uuid));
  assert.equal((await w.store.getNotification(plain.uuid))!.status, 'finished');
  assert.deepEqual(await details(w.store, plain.uuid), [
    { name: 'StopInstanceTask', state: 'REVERTED', messages: [`1.0 Skipping recovery for instance: ${C(2)} as it is not Ha_Enabled`] },
  ]);
  await w.close();
});

test('process failure: the messages of engine_process_nova_compute_stopped', async () => {
  const w = await world({ hosts: ['compute-i1'] });
  const e = w.engine();
  await e.start();
  const n = await w.notify('PROCESS', 'compute-i1', { event: 'STOPPED', process_name: 'nova-compute' });
  await w.drive(e.process(n.uuid));
  assert.deepEqual(await details(w.store, n.uuid), [
    {
      name: 'DisableComputeNodeTask',
      state: 'SUCCESS',
      messages: ["0.0 Disabling compute service on host: 'compute-i1'", "1.0 Disabled compute service on host: 'compute-i1'"],
    },
    {
      name: 'ConfirmComputeNodeDisabledTask',
      state: 'SUCCESS',
      messages: ["0.0 Confirming compute service is disabled on host: 'compute-i1'", "1.0 Confirmed compute service is disabled on host: 'compute-i1'"],
    },
  ]);
  // engine_process_after_hosts: the host is left on maintenance.
  assert.equal((await w.store.getHostByName('compute-i1'))!.onMaintenance, true);
  await w.close();
});
