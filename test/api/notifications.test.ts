import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Notification } from '../../src/core/domain/model.ts';
import { dateFromMicros } from '../../src/core/domain/time.ts';
import { errorOf, seed, testApi } from './support.ts';

const VM = { event: 'LIFECYCLE', instance_uuid: '11111111-2222-3333-4444-555555555555', vir_domain_event: 'STOPPED_FAILED' };
const DOWN = { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' };
const notification = (type: string, hostname: string, payload: unknown, generated_time = '2026-11-22T02:16:19.000000') => ({
  body: { notification: { type, hostname, generated_time, payload } },
});

describe('notifications', () => {
  const accepted: Notification[] = [];
  const api = testApi({}, { onNotificationAccepted: (n) => accepted.push(n) });
  let hosts: Record<string, string>;
  before(async () => {
    ({ hosts } = await seed(api, 'seg-n', ['compute-1', 'compute-2', 'compute-3']));
  });
  after(() => api.close());

  test('accepted: 202, status new, stored, handed to the engine; generated_time normalised to naive UTC', async () => {
    const r = await api.call('POST', '/v1/notifications', notification('COMPUTE_HOST', 'compute-1', { event: 'STARTED' }, '2030-01-01T10:00:00.123456+02:00'));
    assert.equal(r.status, 202);
    const n = r.body.notification;
    assert.deepEqual(Object.keys(n), [
      'id',
      'notification_uuid',
      'generated_time',
      'source_host_uuid',
      'type',
      'payload',
      'status',
      'created_at',
      'updated_at',
      'deleted_at',
      'deleted',
    ]);
    assert.equal(n.generated_time, '2030-01-01T08:00:00.123456');
    assert.equal(n.status, 'new');
    assert.equal(n.source_host_uuid, hosts['compute-1']);
    assert.equal(accepted.at(-1)?.uuid, n.notification_uuid);
    assert.equal((await api.store.getNotification(n.notification_uuid))?.status, 'new');
  });

  test('unknown host 400; duplicate 409; maintenance 409 comes first', async () => {
    assert.deepEqual(errorOf(await api.call('POST', '/v1/notifications', notification('VM', 'nobody', VM))), {
      key: 'badRequest',
      code: 400,
      message: 'Host with name nobody could not be found.',
    });
    assert.equal((await api.call('POST', '/v1/notifications', notification('VM', 'compute-2', VM))).status, 202);
    assert.equal(
      errorOf(await api.call('POST', '/v1/notifications', notification('VM', 'compute-2', VM))).message,
      'Notification received from host compute-2 of type VM is duplicate.',
    );
    assert.equal((await api.call('POST', '/v1/notifications', notification('COMPUTE_HOST', 'compute-3', DOWN))).status, 202);
    await api.store.updateHost(hosts['compute-3']!, { onMaintenance: true }, new Date());
    const again = await api.call('POST', '/v1/notifications', notification('COMPUTE_HOST', 'compute-3', DOWN));
    assert.equal(
      errorOf(again).message,
      "Notification received from host compute-3 of type 'COMPUTE_HOST' is ignored as the host is already under maintenance.",
    );
  });

  test('payload validation per type', async () => {
    const cases: [string, unknown, string][] = [
      [
        'PROCESS',
        { event: 'EXPLODED', process_name: 'nova-compute' },
        "Invalid input for field/attribute event. Value: EXPLODED. 'EXPLODED' is not one of ('STARTED', 'STOPPED')",
      ],
      ['VM', { ...VM, instance_uuid: 'not-a-uuid' }, "Invalid input for field/attribute instance_uuid. Value: not-a-uuid. 'not-a-uuid' is not a 'uuid'"],
      ['COMPUTE_HOST', { event: 'STOPPED', foo: 'bar' }, "Additional properties are not allowed ('foo' was unexpected)"],
      ['PROCESS', { event: 'STOPPED' }, "'process_name' is a required property"],
      ['DISK', { event: 'STOPPED' }, "Invalid input for field/attribute type. Value: DISK. 'DISK' is not one of ('COMPUTE_HOST', 'VM', 'PROCESS')"],
    ];
    for (const [type, payload, message] of cases) {
      assert.deepEqual(errorOf(await api.call('POST', '/v1/notifications', notification(type, 'compute-1', payload))), {
        key: 'badRequest',
        code: 400,
        message,
      });
    }
  });

  test('list filters: comma-separated statuses, type, source host, generated-since', async () => {
    const all = (await api.call('GET', '/v1/notifications')).body.notifications;
    assert.ok(all.length >= 3);
    await api.store.setNotificationStatus(all[0].notification_uuid, 'finished', new Date());
    await api.store.setNotificationStatus(all[1].notification_uuid, 'error', new Date());
    const both = await api.call('GET', '/v1/notifications?status=finished,error');
    assert.deepEqual(both.body.notifications.map((n: any) => n.status).sort(), ['error', 'finished']);
    assert.deepEqual((await api.call('GET', '/v1/notifications?status=finished')).body.notifications.length, 1);
    assert.ok((await api.call('GET', '/v1/notifications?type=VM')).body.notifications.every((n: any) => n.type === 'VM'));
    const fromHost = await api.call('GET', `/v1/notifications?source_host_uuid=${hosts['compute-1']}`);
    assert.ok(fromHost.body.notifications.every((n: any) => n.source_host_uuid === hosts['compute-1']));
    const since = await api.call('GET', '/v1/notifications?generated_since=2029-12-31');
    assert.deepEqual(
      since.body.notifications.map((n: any) => n.generated_time),
      ['2030-01-01T08:00:00.123456'],
    );
    assert.equal(errorOf(await api.call('GET', '/v1/notifications?generated-since=notatime')).message, 'Invalid generated-since value');
  });

  test('show: 1.0 without workflow details; 1.1 with them in Masakari format', async () => {
    const n = (await api.call('GET', '/v1/notifications?type=COMPUTE_HOST')).body.notifications[0];
    const uuid = n.notification_uuid;
    const seq = await api.store.appendTask(uuid, 'DisableComputeServiceTask', 'RUNNING', new Date());
    await api.store.updateTask(uuid, seq, { addDetail: { timestamp: dateFromMicros(1795400310982691), message: 'Disabling', progress: 0 } }, new Date());
    await api.store.updateTask(
      uuid,
      seq,
      { state: 'SUCCESS', progress: 1, addDetail: { timestamp: dateFromMicros(1795400313280529), message: 'Disabled', progress: 1 } },
      new Date(),
    );
    const v10 = await api.call('GET', `/v1/notifications/${uuid}`);
    assert.equal('recovery_workflow_details' in v10.body.notification, false);
    const v11 = await api.call('GET', `/v1/notifications/${uuid}`, { version: '1.1' });
    assert.equal(v11.headers.get('openstack-api-version'), 'masakari 1.1');
    assert.match(
      v11.text,
      /"recovery_workflow_details":\[\{"name":"DisableComputeServiceTask","progress":1\.0,"progress_details":\[\{"timestamp":"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.982691","progress":"0\.0","message":"Disabling"\},\{"timestamp":"[^"]+","progress":"1\.0","message":"Disabled"\}\],"state":"SUCCESS"\}\]/,
    );
    assert.equal(errorOf(await api.call('GET', '/v1/notifications/zzz', { version: '1.1' })).message, 'No notification with id zzz.');
  });

  test('vmoves: only from 1.3, only for host notifications', async () => {
    const host = (await api.call('GET', '/v1/notifications?type=COMPUTE_HOST')).body.notifications[0].notification_uuid;
    const vm = (await api.call('GET', '/v1/notifications?type=VM')).body.notifications[0].notification_uuid;
    const move = await api.store.createVMove(
      {
        notificationUuid: host,
        instanceUuid: VM.instance_uuid,
        instanceName: 'vm1',
        sourceHost: 'compute-3',
        destHost: null,
        type: 'evacuation',
        status: 'pending',
      },
      new Date(),
    );
    assert.equal((await api.call('GET', `/v1/notifications/${host}/vmoves`, { version: '1.2' })).status, 404);
    const list = await api.call('GET', `/v1/notifications/${host}/vmoves`, { version: '1.3' });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.vmoves.map((v: any) => v.uuid),
      [move.uuid],
    );
    assert.deepEqual(Object.keys(list.body.vmoves[0]).slice(0, 7), [
      'id',
      'uuid',
      'notification_uuid',
      'instance_uuid',
      'instance_name',
      'source_host',
      'dest_host',
    ]);
    assert.deepEqual((await api.call('GET', `/v1/notifications/${host}/vmoves?status=succeeded`, { version: '1.3' })).body.vmoves, []);
    const one = await api.call('GET', `/v1/notifications/${host}/vmoves/${move.uuid}`, { version: 'latest' });
    assert.equal(one.body.vmove.instance_name, 'vm1');
    assert.equal(errorOf(await api.call('GET', `/v1/notifications/${vm}/vmoves`, { version: '1.3' })).message, `This notification ${vm} without vm moves.`);
    assert.equal(errorOf(await api.call('GET', `/v1/notifications/${host}/vmoves/nope`, { version: '1.3' })).message, 'No vm move with id nope.');
    assert.equal(errorOf(await api.call('DELETE', `/v1/notifications/${host}/vmoves/${move.uuid}`, { version: '1.3' })).key, 'badMethod');
  });

  test('notifications cannot be updated or deleted', async () => {
    const r = await api.call('DELETE', '/v1/notifications/00000000-0000-0000-0000-000000000000');
    assert.deepEqual(errorOf(r), {
      key: 'badMethod',
      code: 405,
      message: "The request method: 'DELETE' with action: 'delete' is not allowed on this resource",
    });
  });
});
