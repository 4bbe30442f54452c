// The request paths that differ between a real socket (@hono/node-server, Node's IncomingMessage) and app.request():
// request bodies read from the Node stream (with the size cap), headers read from Node's parsed headers, and the
// /v1/{project_id}/... form routed onto the /v1 routes.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createApiApp, startApiServer, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { projectInUrl, routingPath } from '../../src/core/api/routing-path.ts';

describe('API over a real socket', () => {
  let store: Store;
  let server: RunningApi;
  let base: string;
  before(async () => {
    store = openSqliteStore({ path: ':memory:' });
    const app = createApiApp({
      store,
      config: parseConfig({ api: { max_request_body_size: 2048 } }, 'test'),
      log: silentLogger,
      hostCatalog: acceptAllHostCatalog,
    });
    server = await startApiServer(app, '127.0.0.1:0');
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
    fetch(base + path, { method: 'POST', headers, body });

  test("a body over the limit is 413 in Masakari's format, also without Content-Length (chunked)", async () => {
    const big = JSON.stringify({ segment: { name: 'x'.repeat(4000), recovery_method: 'auto', service_type: 'COMPUTE' } });
    const r = await post('/v1/segments', big);
    assert.equal(r.status, 413);
    assert.deepEqual(await r.json(), { overLimit: { code: 413, message: 'Request is too large.' } });
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const chunked = await fetch(base + '/v1/segments', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: stream, duplex: 'half' });
    assert.equal(chunked.status, 413);
    assert.equal(((await chunked.json()) as any).overLimit.code, 413);
  });

  test('bodies, headers and microversions arrive intact', async () => {
    const r = await post('/v1/segments', JSON.stringify({ segment: { name: 'é-seg', recovery_method: 'auto', service_type: 'COMPUTE', description: 'ü' } }), {
      'Content-Type': 'application/json',
      'OpenStack-API-Version': 'instance-ha 1.2',
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('openstack-api-version'), 'masakari 1.2');
    assert.match(r.headers.get('x-openstack-request-id') ?? '', /^req-[0-9a-f-]{36}$/);
    const seg = ((await r.json()) as any).segment;
    assert.equal(seg.name, 'é-seg');
    assert.equal(seg.description, 'ü');
    const bad = await post('/v1/segments', '{"segment":', { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    const xml = await post('/v1/segments', '<segment/>', { 'Content-Type': 'application/xml' });
    assert.equal(xml.status, 415);
    const list = await fetch(base + '/v1/segments/', { headers: { 'OpenStack-API-Version': 'instance-ha latest' } });
    assert.equal(list.status, 200, 'trailing slash accepted, as Masakari does');
    assert.equal(list.headers.get('openstack-api-version'), 'masakari 1.3');
  });

  test('/v1/{project_id}/... reaches the same routes (noauth2 has no project, so Masakari answers 400)', async () => {
    const r = await fetch(base + '/v1/0123456789abcdef0123456789abcdef/segments');
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as any).badRequest.message, /URL's project_id '0123456789abcdef0123456789abcdef' doesn't match/);
    assert.equal((await fetch(base + '/v1/0123456789abcdef0123456789abcdef/nothing-here')).status, 404);
  });
});

test('routingPath and projectInUrl', () => {
  const req = (u: string) => new Request(u);
  assert.equal(routingPath(req('http://h/v1/segments')), '/v1/segments');
  assert.equal(routingPath(req('http://h/v1/segments/')), '/v1/segments');
  assert.equal(routingPath(req('http://h/v1/abc-123/segments/x?y=1')), '/v1/segments/x');
  assert.equal(routingPath(req('http://h/v1/abc-123')), '/v1');
  assert.equal(routingPath(req('http://h/v1/notifications')), '/v1/notifications', 'collection names are never projects');
  assert.equal(projectInUrl('http://h:80/v1/abc-123/segments?x=/v1/ff/'), 'abc-123');
  assert.equal(projectInUrl('http://h/v1/segments'), undefined);
  assert.equal(projectInUrl('http://h/v2/abc/segments'), undefined);
});
