// The all-in-one role's lab defaults and the controller driving the libvirt driver (libvirt's test driver, no
// daemon): first-start bootstrap, the host-failure fencing refusal, and evacuation when fencing is explicitly off.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { openStore } from '../../src/core/store/open.ts';
import { allRoleConfig } from '../../src/roles/all.ts';
import { bootstrapLabSegment, LAB_SEGMENT } from '../../src/drivers/compute/libvirt/lab.ts';
import { libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import { requireComponent } from '../support/components.ts';
import { checkedLogger } from '../support/checked-log.ts';
import { failHostOnLibvirt, waitForEnd } from '../support/libvirt-host-failure.ts';
import { testDomainXml } from '../drivers/libvirt-compute/fixtures.ts';

const U1 = '44444444-4444-4444-8444-444444444444';

test('lab defaults: libvirt driver, migrations, instance monitor and the restart limit, on top of the operator config', () => {
  const c = allRoleConfig(loadConfig({ env: {}, overrides: {} }));
  assert.equal(c.controller.compute_driver, 'libvirt');
  assert.equal(c.database.auto_migrate, true);
  assert.equal(c.libvirt.instance_monitor.enabled, true);
  assert.deepEqual(c.taskflow_driver_recovery_flows.instance_failure_recovery_tasks.pre, ['instance_restart_limit_task', 'stop_instance_task']);
  assert.equal(c.api.listen, '127.0.0.1:15868');
  assert.equal(c.api.auth_strategy, 'noauth2');
  const nova = allRoleConfig(loadConfig({ env: {}, overrides: { controller: { compute_driver: 'nova' } } }));
  assert.equal(nova.controller.compute_driver, 'nova', 'an explicit nova choice is kept');
  const placed = allRoleConfig(
    loadConfig({
      env: {},
      overrides: { taskflow_driver_recovery_flows: { instance_failure_recovery_tasks: { main: ['instance_restart_limit_task', 'start_instance_task'] } } },
    }),
  );
  assert.deepEqual(placed.taskflow_driver_recovery_flows.instance_failure_recovery_tasks.pre, ['stop_instance_task'], 'not added twice');
});

test('first start creates the lab segment with the libvirt hosts; later starts leave the store alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-all-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(loadConfig({ env: {}, overrides: { data_dir: dir, database: { auto_migrate: true } } }));
  t.after(() => store.close());
  assert.equal(await bootstrapLabSegment(store, ['h1', 'h2'], silentLogger), true);
  const seg = (await store.listSegments({ filters: {}, sort: [], limit: 10 }))[0]!;
  assert.equal(seg.name, LAB_SEGMENT);
  assert.deepEqual((await store.listHostsOfSegment(seg.uuid)).map((h) => h.name).sort(), ['h1', 'h2']);
  assert.equal(await bootstrapLabSegment(store, ['h3'], silentLogger), false);
  assert.equal(await store.getHostByName('h3'), undefined);
});

async function hostFailure(t: import('node:test').TestContext, fencingRequired: boolean) {
  // Every JSON line the role logs is checked for repeated keys (test/support/checked-log.ts).
  const checked = checkedLogger('debug');
  const f = await failHostOnLibvirt(t, [testDomainXml('vm', U1, true)], { dirPrefix: 'masakari-all-', fencingRequired, log: checked.log });
  const n = await waitForEnd(f, 30_000);
  assert.ok(checked.raw.length > 0, 'the role logged');
  assert.deepEqual(checked.problems, []);
  return { n, driver: f.hosts.driver };
}

test('host failure without fencing: refused with a clear reason, notification error, VM not moved', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;
  const { n, driver } = await hostFailure(t, true);
  assert.equal(n.status, 'error');
  const messages = n.recovery_workflow_details.flatMap((d) => d.progress_details.map((p) => p.message)).join('\n');
  assert.match(messages, /No fence evidence for host 'node-a': no fencer is configured/);
  assert.equal((await driver.getServer(U1)).host, 'node-a');
});

test("host failure with fencing explicitly off: the dead host's VM is defined and started on the other host", async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;
  const { n, driver } = await hostFailure(t, false);
  assert.equal(n.status, 'finished', JSON.stringify(n.recovery_workflow_details));
  const s = await driver.getServer(U1);
  assert.equal(s.host, 'node-b');
  assert.equal(s.vmState, 'active');
});
