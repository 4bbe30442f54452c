// The serialized-GET cache (resources/common.ts cachedReply) must never serve a stale body or skip authorization:
// every write, ours or another connection's, invalidates it; policy runs before every hit.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createApiApp } from '../../src/core/api/app.ts';
import { ResponseCache } from '../../src/core/api/response-cache.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import type { TokenValidator } from '../../src/core/ports/identity.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';

const T0 = new Date('2026-11-22T00:00:00Z');

function appOn(path: string, extra: { tokenValidator?: TokenValidator; config?: object } = {}) {
  const store = openSqliteStore({ path });
  const app = createApiApp({
    store,
    config: parseConfig(extra.config ?? {}, 'test'),
    log: silentLogger,
    hostCatalog: acceptAllHostCatalog,
    ...(extra.tokenValidator ? { tokenValidator: extra.tokenValidator } : {}),
  });
  const get = async (p: string, headers: Record<string, string> = {}) => {
    const r = await app.request(p, { headers });
    return { status: r.status, body: (await r.json()) as any, headers: r.headers };
  };
  return { store, app, get };
}

describe('GET response cache', () => {
  test('serves the same bytes until this process writes, then the new state', async () => {
    const { store, get } = appOn(':memory:');
    const seg = await store.createSegment({ name: 's1', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, T0);
    const first = await get('/v1/segments');
    assert.deepEqual(
      first.body.segments.map((s: any) => s.name),
      ['s1'],
    );
    assert.equal(first.headers.get('x-openstack-request-id')?.startsWith('req-'), true);
    const again = await get('/v1/segments');
    assert.deepEqual(again.body, first.body);
    assert.notEqual(again.headers.get('x-openstack-request-id'), first.headers.get('x-openstack-request-id'), 'headers are per request');

    await store.updateSegment(seg.uuid, { description: 'changed' }, T0);
    assert.equal((await get('/v1/segments')).body.segments[0].description, 'changed');
    assert.equal((await get(`/v1/segments/${seg.uuid}`)).body.segment.description, 'changed');
    await store.deleteSegment(seg.uuid, T0);
    assert.deepEqual((await get('/v1/segments')).body.segments, []);
    assert.equal((await get(`/v1/segments/${seg.uuid}`)).status, 404);
    await store.close();
  });

  test('engine writes (status, claims, task progress) show at once in GET notification', async () => {
    const { store, get } = appOn(':memory:');
    const seg = await store.createSegment({ name: 's1', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, T0);
    const host = await store.createHost(seg.uuid, { name: 'c1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, T0);
    const created = await store.createNotification(
      {
        uuid: '11111111-1111-4111-8111-111111111111',
        type: 'VM',
        generatedTime: T0,
        sourceHostUuid: host.uuid,
        payload: { event: 'LIFECYCLE', instance_uuid: 'i-1', vir_domain_event: 'STOPPED_FAILED' },
      },
      0,
      T0,
    );
    assert.ok(created.created);
    const url = '/v1/notifications/11111111-1111-4111-8111-111111111111';
    assert.equal((await get(url)).body.notification.status, 'new');
    await store.setNotificationStatus(created.notification.uuid, 'running', T0);
    assert.equal((await get(url)).body.notification.status, 'running');
    const v11 = { 'OpenStack-API-Version': 'instance-ha 1.1' };
    assert.deepEqual((await get(url, v11)).body.notification.recovery_workflow_details, []);
    const seq = await store.appendTask(created.notification.uuid, 'StopInstanceTask', 'RUNNING', T0);
    assert.equal((await get(url, v11)).body.notification.recovery_workflow_details[0].name, 'StopInstanceTask');
    await store.updateTask(created.notification.uuid, seq, { state: 'SUCCESS', progress: 1 }, T0);
    assert.equal((await get(url, v11)).body.notification.recovery_workflow_details[0].state, 'SUCCESS');
    assert.equal((await get(url)).body.notification.recovery_workflow_details, undefined, 'the 1.0 body is a different entry');
    await store.close();
  });

  test('a commit by another connection to the same file (another process, db purge) invalidates it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'masakari-cache-'));
    try {
      const file = join(dir, 'm.sqlite');
      const { store, get } = appOn(file);
      assert.deepEqual((await get('/v1/segments')).body.segments, []);
      const other = openSqliteStore({ path: file });
      await other.createSegment({ name: 'from-elsewhere', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, T0);
      assert.deepEqual(
        (await get('/v1/segments')).body.segments.map((s: any) => s.name),
        ['from-elsewhere'],
      );
      await other.close();
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('policy is checked on every request, also when the body is cached', async () => {
    const validator: TokenValidator = {
      wwwAuthenticateUri: 'http://keystone.invalid/v3',
      validate: async (token) => ({
        userId: token,
        userName: token,
        projectId: 'p1',
        projectName: 'p1',
        roles: token === 'admin-token' ? ['admin'] : ['member'],
        expiresAt: null,
      }),
    };
    const { store, get } = appOn(':memory:', {
      tokenValidator: validator,
      config: { api: { auth_strategy: 'keystone', keystone: { auth_url: 'http://keystone.invalid/v3', password: 'x' } } },
    });
    await store.createSegment({ name: 's1', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, T0);
    assert.equal((await get('/v1/segments', { 'X-Auth-Token': 'admin-token' })).status, 200);
    assert.equal((await get('/v1/segments', { 'X-Auth-Token': 'admin-token' })).status, 200);
    const member = await get('/v1/segments', { 'X-Auth-Token': 'member-token' });
    assert.equal(member.status, 403);
    assert.equal(member.body.forbidden.code, 403);
    await store.close();
  });
});

describe('ResponseCache bounds', () => {
  const bytes = (n: number) => new Uint8Array(n);
  test('a different stamp is a miss and drops the entry', () => {
    const c = new ResponseCache();
    c.set('k', '1:0', bytes(3));
    assert.equal(c.get('k', '1:0')?.byteLength, 3);
    assert.equal(c.get('k', '2:0'), undefined);
    assert.equal(c.size, 0);
  });
  test('least recently used entries go first, by count and by bytes; oversized bodies are not kept', () => {
    const c = new ResponseCache({ maxEntries: 2, maxBytes: 10, maxEntryBytes: 8 });
    c.set('a', 's', bytes(4));
    c.set('b', 's', bytes(4));
    c.get('a', 's'); // a is now the most recent
    c.set('c', 's', bytes(1));
    assert.equal(c.get('b', 's'), undefined, 'b was the least recently used');
    assert.ok(c.get('a', 's') && c.get('c', 's'));
    c.set('d', 's', bytes(8)); // 3 entries > 2 and 4 + 1 + 8 bytes > 10: a (least recent) goes, 1 + 8 fits
    assert.equal(c.size, 2);
    assert.equal(c.get('a', 's'), undefined);
    assert.ok(c.get('c', 's') && c.get('d', 's'));
    c.set('e', 's', bytes(6)); // c is older than d: c goes, then 8 + 6 > 10 so d goes too
    assert.equal(c.size, 1);
    assert.ok(c.get('e', 's'));
    c.set('huge', 's', bytes(9));
    assert.equal(c.get('huge', 's'), undefined);
  });
});
