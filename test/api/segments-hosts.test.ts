import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { HostCatalog } from '../../src/core/ports/host-catalog.ts';
import { errorOf, seed, testApi } from './support.ts';

describe('segments', () => {
  const api = testApi();
  after(() => api.close());

  test('create echoes the fields; enabled only from 1.2; booleans accept Masakari strings', async () => {
    const r = await api.call('POST', '/v1/segments', { body: { segment: { name: 's1', recovery_method: 'auto', service_type: 'COMPUTE', description: 'd' } } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.headers.get('openstack-api-version'), 'masakari 1.0');
    assert.deepEqual(Object.keys(r.body.segment), [
      'id',
      'uuid',
      'name',
      'service_type',
      'enabled',
      'description',
      'recovery_method',
      'created_at',
      'updated_at',
      'deleted_at',
      'deleted',
    ]);
    assert.match(r.body.segment.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(r.body.segment.enabled, true);

    const v10 = await api.call('POST', '/v1/segments', { body: { segment: { name: 's2', recovery_method: 'auto', service_type: 'C', enabled: false } } });
    assert.equal(v10.status, 400);
    const v12 = await api.call('POST', '/v1/segments', {
      version: '1.2',
      body: { segment: { name: 's2', recovery_method: 'auto', service_type: 'C', enabled: 'Off' } },
    });
    assert.equal(v12.status, 201);
    assert.equal(v12.body.segment.enabled, false);
    const upd = await api.call('PUT', `/v1/segments/${v12.body.segment.uuid}`, { version: '1.2', body: { segment: { enabled: 'False' } } });
    assert.equal(upd.body.segment.enabled, false, "'False' really means false (Masakari's update turned any string into true)");
    assert.notEqual(upd.body.segment.updated_at, null);
  });

  test('names are unique among live segments; a deleted name can be reused', async () => {
    await api.call('POST', '/v1/segments', { body: { segment: { name: 'dup', recovery_method: 'auto', service_type: 'C' } } });
    const again = await api.call('POST', '/v1/segments', { body: { segment: { name: 'dup', recovery_method: 'auto', service_type: 'C' } } });
    assert.deepEqual(errorOf(again), { key: 'conflictingRequest', code: 409, message: 'Failover segment with name dup already exists.' });
    const list = await api.call('GET', '/v1/segments?sort_key=name&sort_dir=asc');
    const dup = list.body.segments.find((s: any) => s.name === 'dup');
    assert.equal((await api.call('DELETE', `/v1/segments/${dup.uuid}`)).status, 204);
    assert.equal((await api.call('POST', '/v1/segments', { body: { segment: { name: 'dup', recovery_method: 'auto', service_type: 'C' } } })).status, 201);
  });

  test('filters, repeated sort keys, limit cap and marker paging', async () => {
    const small = testApi({ api: { osapi_max_limit: 2 } });
    try {
      for (const [name, rm] of [
        ['a', 'auto'],
        ['b', 'rh_priority'],
        ['c', 'auto'],
        ['d', 'auto'],
      ]) {
        await small.call('POST', '/v1/segments', { body: { segment: { name, recovery_method: rm, service_type: 'C' } } });
      }
      const page1 = await small.call('GET', '/v1/segments?sort_key=recovery_method&sort_dir=asc&sort_key=name&sort_dir=desc&limit=50');
      assert.deepEqual(
        page1.body.segments.map((s: any) => s.name),
        ['d', 'c'],
        'limit is capped at osapi_max_limit',
      );
      const page2 = await small.call(
        'GET',
        `/v1/segments?sort_key=recovery_method&sort_dir=asc&sort_key=name&sort_dir=desc&marker=${page1.body.segments[1].id}`,
      );
      assert.deepEqual(
        page2.body.segments.map((s: any) => s.name),
        ['a', 'b'],
      );
      const auto = await small.call('GET', '/v1/segments?recovery_method=rh_priority');
      assert.deepEqual(
        auto.body.segments.map((s: any) => s.name),
        ['b'],
      );
      assert.deepEqual((await small.call('GET', '/v1/segments?limit=0')).body, { segments: [] });
      for (const marker of ['0099999', '99999999999999999999999', '-1']) {
        assert.equal(errorOf(await small.call('GET', `/v1/segments?marker=${marker}`)).message, `Marker ${marker} could not be found.`);
      }
      assert.equal(errorOf(await small.call('GET', '/v1/segments?enabled=maybe')).message.startsWith('Invalid value for enabled: Unrecognized value'), true);
      assert.equal(
        errorOf(await small.call('GET', '/v1/segments?sort_dir=up')).message,
        "Invalid input received: Unknown sort direction, must be 'asc' or 'desc'",
      );
      assert.equal(errorOf(await small.call('GET', '/v1/segments?limit=1.5')).message, 'Invalid input received: limit must be an integer');
    } finally {
      await small.close();
    }
  });

  test('unknown ids and bad methods', async () => {
    assert.deepEqual(errorOf(await api.call('GET', '/v1/segments/nope')), { key: 'itemNotFound', code: 404, message: 'No failover segment with id nope.' });
    assert.deepEqual(errorOf(await api.call('DELETE', '/v1/segments/nope')), { key: 'itemNotFound', code: 404, message: 'No failover segment with id nope.' });
    const r = await api.call('POST', '/v1/segments/00000000-0000-0000-0000-000000000000/action', { body: {} });
    assert.equal(errorOf(r).key, 'badMethod');
  });
});

describe('hosts', () => {
  const known = new Set(['compute-1', 'compute-2', 'compute-3']);
  const catalog: HostCatalog = { hostExists: async (n) => known.has(n) };
  const api = testApi({}, { hostCatalog: catalog });
  after(() => api.close());

  test('create: compute host must exist, names are global, the segment is embedded', async () => {
    const { segment } = await seed(api, 'seg-h', ['compute-1']);
    const other = await seed(api, 'seg-h2', []);
    const missing = await api.call('POST', `/v1/segments/${segment}/hosts`, { body: { host: { name: 'ghost', type: 'COMPUTE', control_attributes: 'x' } } });
    assert.deepEqual(errorOf(missing), { key: 'badRequest', code: 400, message: 'Compute service with name ghost could not be found.' });
    const dup = await api.call('POST', `/v1/segments/${other.segment}/hosts`, {
      body: { host: { name: 'compute-1', type: 'COMPUTE', control_attributes: 'x' } },
    });
    assert.equal(errorOf(dup).message, 'Host with name compute-1 already exists.');
    const ok = await api.call('POST', `/v1/segments/${other.segment}/hosts`, {
      body: { host: { name: 'compute-2', type: 'COMPUTE', control_attributes: 'x', reserved: 'yes', on_maintenance: false } },
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.host.reserved, true);
    assert.equal(ok.body.host.failover_segment_id, other.segment);
    assert.equal(ok.body.host.failover_segment.name, 'seg-h2');
    const nullType = await api.call('POST', `/v1/segments/${other.segment}/hosts`, {
      body: { host: { name: 'compute-3', type: null, control_attributes: 'x' } },
    });
    assert.equal(errorOf(nullType).message, "Invalid input for field/attribute type. Value: None. None is not of type 'string'");
  });

  test('list filters: strict booleans, type; show/update/delete stay inside the segment', async () => {
    const { segment, hosts } = await seed(api, 'seg-l', ['compute-3']);
    const list = await api.call('GET', `/v1/segments/${segment}/hosts?reserved=false&on_maintenance=0&type=COMPUTE`);
    assert.deepEqual(
      list.body.hosts.map((h: any) => h.name),
      ['compute-3'],
    );
    assert.deepEqual((await api.call('GET', `/v1/segments/${segment}/hosts?reserved=true`)).body.hosts, []);
    const bad = await api.call('GET', `/v1/segments/${segment}/hosts?on_maintenance=maybe`);
    assert.equal(
      errorOf(bad).message,
      "Invalid value for on_maintenance: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
    );
    const other = await seed(api, 'seg-l2', []);
    const wrong = await api.call('GET', `/v1/segments/${other.segment}/hosts/${hosts['compute-3']}`);
    assert.equal(errorOf(wrong).message, `Host '${hosts['compute-3']}' under failover_segment '${other.segment}' could not be found.`);
    assert.equal(errorOf(await api.call('GET', `/v1/segments/${segment}/hosts/x1`)).message, 'No host with id x1.');
    const upd = await api.call('PUT', `/v1/segments/${segment}/hosts/${hosts['compute-3']}`, { body: { host: { on_maintenance: 'True' } } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.host.on_maintenance, true);
    const rename = await api.call('PUT', `/v1/segments/${segment}/hosts/${hosts['compute-3']}`, { body: { host: { name: 'ghost' } } });
    assert.equal(errorOf(rename).message, 'Compute service with name ghost could not be found.');
    assert.equal((await api.call('DELETE', `/v1/segments/${segment}/hosts/${hosts['compute-3']}`)).status, 204);
    assert.equal((await api.call('GET', `/v1/segments/${segment}/hosts/${hosts['compute-3']}`)).status, 404);
  });

  test('deleting a segment deletes its hosts; a busy segment cannot change', async () => {
    const { segment } = await seed(api, 'seg-c', []);
    known.add('compute-9');
    const h = await api.call('POST', `/v1/segments/${segment}/hosts`, { body: { host: { name: 'compute-9', type: 'COMPUTE', control_attributes: 'x' } } });
    const n = await api.call('POST', '/v1/notifications', {
      body: {
        notification: {
          type: 'VM',
          hostname: 'compute-9',
          generated_time: '2026-01-01T00:00:00',
          payload: { event: 'LIFECYCLE', instance_uuid: '11111111-2222-3333-4444-555555555555', vir_domain_event: 'STOPPED_FAILED' },
        },
      },
    });
    assert.equal(n.status, 202);
    const busy = await api.call('PUT', `/v1/segments/${segment}`, { body: { segment: { description: 'x' } } });
    assert.equal(errorOf(busy).message, `Failover segment ${segment} can't be updated as it is in-use to process notifications.`);
    const busyHost = await api.call('DELETE', `/v1/segments/${segment}/hosts/${h.body.host.uuid}`);
    assert.equal(errorOf(busyHost).message, `Host ${h.body.host.uuid} can't be deleted as it is in-use to process notifications.`);
    await api.store.setNotificationStatus(n.body.notification.notification_uuid, 'finished', new Date());
    assert.equal((await api.call('DELETE', `/v1/segments/${segment}`)).status, 204);
    assert.equal((await api.call('GET', `/v1/segments/${segment}/hosts/${h.body.host.uuid}`)).status, 404);
    assert.equal(await api.store.getHostByName('compute-9'), undefined);
  });
});

describe('hosts when the compute backend cannot be asked', () => {
  const api = testApi({}, { hostCatalog: { hostExists: async () => Promise.reject(new Error('connection refused')) } });
  after(() => api.close());

  test('503 serviceUnavailable, nothing stored', async () => {
    const { segment } = await seed(api, 'seg-down', []);
    const r = await api.call('POST', `/v1/segments/${segment}/hosts`, { body: { host: { name: 'compute-1', type: 'COMPUTE', control_attributes: 'x' } } });
    assert.equal(r.status, 503);
    assert.equal(errorOf(r).key, 'serviceUnavailable');
    assert.equal(await api.store.getHostByName('compute-1'), undefined);
  });
});
