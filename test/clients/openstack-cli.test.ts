// python-openstackclient with the masakariclient plugin, as operators run it (noauth endpoint form).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { clientsInstalled, startClientLab, type ClientLab } from './support.ts';

const VM_PAYLOAD = '{"event":"LIFECYCLE","instance_uuid":"11111111-2222-3333-4444-555555555555","vir_domain_event":"STOPPED_FAILED"}';

describe('openstack CLI (python3-masakariclient)', { timeout: 600_000 }, () => {
  const installed = clientsInstalled();
  let lab: ClientLab;
  before(async () => {
    if (installed) lab = await startClientLab();
  });
  after(async () => {
    await lab?.close();
  });

  test('segment, host and notification verbs', async (t) => {
    if (!requireComponent(t, 'python3-openstackclient + python3-masakariclient', installed)) return;

    const seg = await lab.openstackJson('segment', 'create', 'seg-cli', 'auto', 'COMPUTE', '--description', 'made by the CLI');
    assert.equal(seg.name, 'seg-cli');
    assert.equal(seg.recovery_method, 'auto');
    assert.equal(seg.description, 'made by the CLI');
    assert.equal(seg.is_enabled, true);

    const list = await lab.openstackJson('segment', 'list');
    assert.deepEqual(
      list.map((s: any) => s.name),
      ['seg-cli'],
    );
    const shown = await lab.openstackJson('segment', 'show', 'seg-cli');
    assert.equal(shown.uuid, seg.uuid);

    const updated = await lab.openstackJson(
      'segment',
      'update',
      seg.uuid,
      '--description',
      'changed',
      '--recovery_method',
      'reserved_host',
      '--is_enabled',
      'False',
    );
    assert.equal(updated.description, 'changed');
    assert.equal(updated.recovery_method, 'reserved_host');
    assert.equal(updated.is_enabled, false);

    const dup = await lab.openstack('segment', 'create', 'seg-cli', 'auto', 'COMPUTE');
    assert.match(dup.stdout + dup.stderr, /Failover segment with name seg-cli already exists/);

    const h1 = await lab.openstackJson('segment', 'host', 'create', 'compute-1', 'COMPUTE', 'SSH', seg.uuid);
    assert.equal(h1.name, 'compute-1');
    assert.equal(h1.failover_segment_id, seg.uuid);
    const h2 = await lab.openstackJson('segment', 'host', 'create', 'compute-2', 'COMPUTE', 'IPMI', seg.uuid, '--reserved', 'True');
    assert.equal(h2.reserved, true);

    const hosts = await lab.openstackJson('segment', 'host', 'list', seg.uuid);
    assert.deepEqual(hosts.map((h: any) => h.name).sort(), ['compute-1', 'compute-2']);
    const reserved = await lab.openstackJson('segment', 'host', 'list', seg.uuid, '--filters', 'reserved=True');
    assert.deepEqual(
      reserved.map((h: any) => h.name),
      ['compute-2'],
    );
    const hShown = await lab.openstackJson('segment', 'host', 'show', seg.uuid, 'compute-1');
    assert.equal(hShown.uuid, h1.uuid);
    const hUpdated = await lab.openstackJson('segment', 'host', 'update', seg.uuid, 'compute-2', '--on_maintenance', 'True');
    assert.equal(hUpdated.on_maintenance, true);
    const del = await lab.openstack('segment', 'host', 'delete', seg.uuid, 'compute-2');
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(
      (await lab.openstackJson('segment', 'host', 'list', seg.uuid)).map((h: any) => h.name),
      ['compute-1'],
    );

    const n = await lab.openstackJson('notification', 'create', 'VM', 'compute-1', '2026-11-22T02:16:19.000000', VM_PAYLOAD);
    assert.equal(n.status, 'new');
    assert.equal(n.source_host_uuid, h1.uuid);
    assert.deepEqual(n.payload, JSON.parse(VM_PAYLOAD));
    const again = await lab.openstack('notification', 'create', 'VM', 'compute-1', '2026-11-22T02:16:19.000000', VM_PAYLOAD);
    assert.match(again.stdout + again.stderr, /Notification received from host compute-1 of type VM is duplicate/);
    const notes = await lab.openstackJson('notification', 'list');
    assert.deepEqual(
      notes.map((x: any) => x.notification_uuid),
      [n.notification_uuid],
    );
    const nShown = await lab.openstackJson('notification', 'show', n.notification_uuid);
    assert.equal(nShown.generated_time, '2026-11-22T02:16:19.000000');
    assert.deepEqual(nShown.recovery_workflow_details, []);

    // The segment is busy while the notification is new; once it finished, it can go (hosts with it).
    const busy = await lab.openstack('segment', 'delete', seg.uuid);
    assert.match(busy.stdout + busy.stderr, /can't be deleted as it is in-use to process notifications/);
    await lab.store.setNotificationStatus(n.notification_uuid, 'finished', new Date());
    const gone = await lab.openstack('segment', 'delete', seg.uuid);
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual(await lab.openstackJson('segment', 'list'), []);
  });

  test('clouds.yaml with auth_type none', async (t) => {
    if (!requireComponent(t, 'python3-openstackclient + python3-masakariclient', installed)) return;
    const { writeFileSync } = await import('node:fs');
    const file = `${lab.dir}/clouds.yaml`;
    writeFileSync(file, `clouds:\n  masakari-test:\n    auth_type: none\n    auth:\n      endpoint: ${lab.endpoint}\n    ha_api_version: "1.2"\n`);
    await lab.store.createSegment({ name: 'seg-yaml', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
    const r = await lab.run('/usr/bin/openstack', ['segment', 'list', '-f', 'json'], { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: 'masakari-test' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((s: any) => s.name),
      ['seg-yaml'],
    );
  });
});
