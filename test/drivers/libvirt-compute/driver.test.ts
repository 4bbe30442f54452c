// The libvirt compute driver's own behaviour beyond the shared contract: HA metadata and its fallback, state
// mapping, the remembered XML of a dead host, evacuation safety and state kept across controller restarts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../src/core/log.ts';
import { ComputeDriverError } from '../../../src/core/ports/compute.ts';
import { LibvirtComputeDriver, LibvirtStateStore, mapDomainState, metadataFromElement } from '../../../src/drivers/compute/libvirt/index.ts';
import { libvirtAvailable } from '../../../src/drivers/libvirt/index.ts';
import { requireComponent } from '../../support/components.ts';
import { testDomainXml, twoTestHosts } from './fixtures.ts';

const available = libvirtAvailable();
const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const U3 = '33333333-3333-4333-8333-333333333333';

const code = (c: ComputeDriverError['code']) => (e: unknown) => e instanceof ComputeDriverError && e.code === c;

test('domain states map onto Nova vm_state and power_state', () => {
  assert.deepEqual(mapDomainState(1), { vmState: 'active', taskState: null, powerState: 1 });
  assert.deepEqual(mapDomainState(2), { vmState: 'active', taskState: null, powerState: 1 });
  assert.deepEqual(mapDomainState(3), { vmState: 'paused', taskState: null, powerState: 3 });
  assert.deepEqual(mapDomainState(4), { vmState: 'active', taskState: 'powering-off', powerState: 4 });
  assert.deepEqual(mapDomainState(5), { vmState: 'stopped', taskState: null, powerState: 4 });
  assert.deepEqual(mapDomainState(6), { vmState: 'stopped', taskState: null, powerState: 6 });
  assert.deepEqual(mapDomainState(7), { vmState: 'suspended', taskState: null, powerState: 7 });
  assert.deepEqual(mapDomainState(0), { vmState: 'error', taskState: null, powerState: 0 });
});

test('our metadata element: enabled becomes the HA key, other attributes pass through, junk is "not enabled"', () => {
  assert.deepEqual(metadataFromElement('<masakari:ha xmlns:masakari="x" enabled="true" priority="7"/>', 'HA_Enabled'), { HA_Enabled: 'true', priority: '7' });
  assert.deepEqual(metadataFromElement('<ha enabled="false"/>', 'HA'), { HA: 'false' });
  assert.equal(metadataFromElement(null, 'HA_Enabled'), null);
  assert.deepEqual(metadataFromElement('<<<', 'HA_Enabled'), {});
});

test('HA_Enabled comes from the domain metadata, with the configured fallback for unmarked domains', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', available)) return;
  const h = twoTestHosts([testDomainXml('on', U1, true), testDomainXml('off', U2, false), testDomainXml('plain', U3, null)]);
  t.after(() => h.cleanup());
  const meta = async (d: LibvirtComputeDriver, id: string) => (await d.getServer(id)).metadata.HA_Enabled;
  assert.equal(await meta(h.driver, U1), 'true');
  assert.equal(await meta(h.driver, U2), 'false');
  assert.equal(await meta(h.driver, U3), undefined);
  const all = h.newDriver({ haEnabledDefault: true });
  assert.equal(await meta(all, U3), 'true');
  assert.equal(await meta(all, U2), 'false', 'an explicit false wins over the protect-all fallback');
  // The helper marks a domain (live and persistent config) the way `virsh metadata` does.
  await h.driver.setHaEnabled(U3, true);
  assert.equal(await meta(h.driver, U3), 'true');
});

test('unknown ids, non-UUIDs and unknown hosts are clear errors, not crashes', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', available)) return;
  const h = twoTestHosts([testDomainXml('vm', U1, true)]);
  t.after(() => h.cleanup());
  await assert.rejects(h.driver.getServer('not-a-uuid'), code('not_found'));
  await assert.rejects(h.driver.startServer(U2), code('not_found'));
  await assert.rejects(h.driver.disableComputeService('nope', 'x'), code('not_found'));
  await assert.rejects(h.driver.startServer(U1), code('conflict'), 'already running');
  assert.equal(await h.driver.hostExists('node-a'), true);
  assert.equal(await h.driver.hostExists('node-c'), false);
});

test('a dead host: its domains are listed from the XML last seen, and evacuation is refused until it counts as down', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', available)) return;
  const h = twoTestHosts([testDomainXml('vm', U1, true)]);
  t.after(() => h.cleanup());
  await h.driver.refreshInventory();
  // Forced down but still reachable with the domain running: evacuating would run it twice.
  await h.driver.setComputeServiceForcedDown('node-a', true);
  await assert.rejects(h.driver.evacuateServer(U1, 'node-b'), (e: unknown) => code('conflict')(e) && /still runs on node-a/.test((e as Error).message));
  h.kill('node-a');
  const listed = await h.driver.listServersOnHost('node-a');
  assert.deepEqual(
    listed.map((s) => [s.id, s.host, s.vmState, s.metadata.HA_Enabled]),
    [[U1, 'node-a', 'active', 'true']],
  );
  assert.equal((await h.driver.getComputeService('node-a')).state, 'down');
  // Scheduler: no target given, the only other enabled and reachable host is picked.
  await h.driver.evacuateServer(U1);
  const s = await h.driver.getServer(U1);
  assert.equal(s.host, 'node-b');
  assert.equal(s.vmState, 'active');
  assert.deepEqual(await h.driver.listServersOnHost('node-a'), [], 'the old host no longer owns it');
  // Running the evacuation again (a resumed workflow) changes nothing.
  await h.driver.evacuateServer(U1, 'node-b').catch(() => undefined);
  assert.equal((await h.driver.getServer(U1)).host, 'node-b');
});

test('compute-service state, locks and homes survive a controller restart (state file)', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', available)) return;
  const h = twoTestHosts([testDomainXml('vm', U1, true)]);
  t.after(() => h.cleanup());
  await h.driver.disableComputeService('node-b', 'maintenance');
  await h.driver.lockServer(U1);
  const again = new LibvirtComputeDriver({
    hosts: { 'node-a': `test://${h.files['node-a']}`, 'node-b': `test://${h.files['node-b']}` },
    metadataNamespace: 'http://masakari.dev/xmlns/libvirt/1.0',
    haKeys: ['HA_Enabled'],
    haEnabledDefault: false,
    state: new LibvirtStateStore(h.statePath),
    connectTimeoutMs: 5000,
    inventoryIntervalMs: 0,
    log: silentLogger,
  });
  t.after(() => again.close());
  const svc = await again.getComputeService('node-b');
  assert.equal(svc.status, 'disabled');
  assert.equal(svc.disabledReason, 'maintenance');
  assert.equal((await again.getServer(U1)).locked, true);
});

test('a corrupt state file stops startup with its path in the message', (t) => {
  const h = { path: `${process.env.TMPDIR ?? '/tmp'}/masakari-bad-state-${process.pid}.json` };
  t.after(async () => (await import('node:fs')).rmSync(h.path, { force: true }));
  return import('node:fs').then(({ writeFileSync }) => {
    writeFileSync(h.path, '{not json');
    assert.throws(() => new LibvirtStateStore(h.path), new RegExp(`${h.path}.*not valid JSON`));
  });
});
