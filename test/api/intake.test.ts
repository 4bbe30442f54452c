// Notification intake invariants at the API boundary: a 202 means the row is committed (another connection sees it),
// and identical notifications racing each other are accepted exactly once.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiApp, startApiServer, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';

describe('notification intake', () => {
  let dir: string;
  let store: Store;
  let server: RunningApi;
  let base: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'masakari-intake-'));
    store = openSqliteStore({ path: join(dir, 'masakari.sqlite') });
    server = await startApiServer(createApiApp({ store, config: parseConfig({}, 't'), log: silentLogger, hostCatalog: acceptAllHostCatalog }), '127.0.0.1:0');
    base = `http://127.0.0.1:${server.port}/v1`;
    const post = (path: string, body: unknown) =>
      fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    const seg = await post('/segments', { segment: { name: 's', recovery_method: 'auto', service_type: 'COMPUTE' } });
    await post(`/segments/${seg.segment.uuid}/hosts`, { host: { name: 'compute-1', type: 'COMPUTE', control_attributes: 'x' } });
  });
  after(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (payload: Record<string, string>) =>
    fetch(`${base}/notifications`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ notification: { type: 'COMPUTE_HOST', hostname: 'compute-1', generated_time: '2026-11-22T02:17:33.487258', payload } }),
      signal: AbortSignal.timeout(10_000),
    });

  test('a 202 is committed: a second connection to the database file sees it', async () => {
    const r = await send({ event: 'STARTED' });
    assert.equal(r.status, 202);
    const uuid = ((await r.json()) as any).notification.notification_uuid;
    const other = openSqliteStore({ path: join(dir, 'masakari.sqlite'), migrate: false });
    try {
      assert.equal((await other.getNotification(uuid))?.status, 'new');
    } finally {
      await other.close();
    }
  });

  test('identical notifications sent at once: exactly one accepted, the others 409', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => send({ event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' })));
    const codes = results.map((r) => r.status).sort();
    await Promise.all(results.map((r) => r.text()));
    assert.deepEqual(codes, [202, 409, 409, 409, 409, 409, 409, 409]);
    const stored = await store.listNotifications({ filters: { type: 'COMPUTE_HOST' }, sort: [], limit: 100 });
    assert.equal(stored.filter((n) => n.payload.event === 'STOPPED').length, 1);
  });
});
