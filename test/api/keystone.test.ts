// keystone auth strategy against a small stand-in Keystone v3 of the test's own (real HTTP on loopback).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createApiApp, type ApiApp } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { checkedLogger } from '../support/checked-log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { KeystoneTokenValidator } from '../../src/drivers/identity/keystone.ts';
import { FAKE_PROJECT, FakeKeystone } from './fake-keystone.ts';

const PROJECT = FAKE_PROJECT;
const OTHER_PROJECT = 'fedcba9876543210fedcba9876543210';

/** Every JSON line the API and the validator log is checked for repeated keys (last test below). */
const checked = checkedLogger('trace');

function keystoneApp(ks: FakeKeystone, store: Store, overrides: Record<string, unknown> = {}): ApiApp {
  const config = parseConfig(
    {
      api: {
        auth_strategy: 'keystone',
        keystone: { auth_url: `${ks.url}/v3`, password: 'secret', timeout_seconds: 2, ...overrides },
        policy: { 'os_masakari_api:segments:index': 'rule:admin_api or role:reader' },
      },
    },
    'test',
  );
  return createApiApp({
    store,
    config,
    log: checked.log,
    hostCatalog: acceptAllHostCatalog,
    tokenValidator: new KeystoneTokenValidator(config.api.keystone, checked.log.child({ component: 'keystone' })),
  });
}

const get = (app: ApiApp, path: string, token?: string) => app.request(path, { headers: token ? { 'X-Auth-Token': token } : {} });

describe('keystone auth', () => {
  const ks = new FakeKeystone();
  let store: Store;
  let app: ApiApp;
  before(async () => {
    await ks.start();
    store = openSqliteStore({ path: ':memory:' });
    app = keystoneApp(ks, store);
  });
  after(async () => {
    await ks.stop();
    await store.close();
  });

  test('GET / needs no token; /v1 and resources answer keystonemiddleware 401 without a valid one', async () => {
    assert.equal((await get(app, '/')).status, 200);
    for (const [path, token] of [
      ['/v1', undefined],
      ['/v1/segments', undefined],
      ['/v1/segments', 'bogus'],
    ] as const) {
      const r = await get(app, path, token);
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
      assert.deepEqual(await r.json(), { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    }
  });

  test('admin passes; validations are cached', async () => {
    const before = ks.validations;
    assert.equal((await get(app, '/v1/segments', 'admin-token')).status, 200);
    assert.equal((await get(app, '/v1/segments', 'admin-token')).status, 200);
    assert.equal(ks.validations - before, 1);
    const uncached = keystoneApp(ks, store, { token_cache_seconds: 0 });
    for (const path of ['/v1', '/v1/', '/v1/segments']) {
      const v = ks.validations;
      assert.equal((await get(uncached, path, 'admin-token')).status, 200);
      assert.equal(ks.validations - v, 1, `${path}: one validation per request`);
    }
  });

  test('policy: non-admin gets 403 unless a configured rule lets the role in', async () => {
    const member = await get(app, '/v1/segments', 'member-token');
    assert.equal(member.status, 403);
    assert.deepEqual(await member.json(), { forbidden: { code: 403, message: "Policy doesn't allow os_masakari_api:segments:index to be performed." } });
    assert.equal((await get(app, '/v1/segments', 'reader-token')).status, 200);
    const create = await app.request('/v1/segments', {
      method: 'POST',
      headers: { 'X-Auth-Token': 'reader-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ segment: { name: 's', recovery_method: 'auto', service_type: 'C' } }),
    });
    assert.equal(create.status, 403);
  });

  test("/v1/{project_id}/... is allowed for the token's own project only", async () => {
    assert.equal((await get(app, `/v1/${PROJECT}/segments`, 'admin-token')).status, 200);
    const other = await get(app, `/v1/${OTHER_PROJECT}/segments`, 'admin-token');
    assert.equal(other.status, 400);
    assert.equal(
      ((await other.json()) as any).badRequest.message,
      `Malformed request URL: URL's project_id '${OTHER_PROJECT}' doesn't match Context's project_id '${PROJECT}'`,
    );
  });

  test('a revoked service token is replaced once; the cache holds at most token_cache_size entries', async () => {
    const small = keystoneApp(ks, store, { token_cache_size: 1 });
    assert.equal((await get(small, '/v1/segments', 'admin-token')).status, 200);
    const auths = ks.authCalls;
    ks.serviceTokens.clear();
    const v0 = ks.validations;
    assert.equal((await get(small, '/v1/segments', 'reader-token')).status, 200);
    assert.equal(ks.authCalls, auths + 1);
    assert.equal(ks.validations - v0, 2, 'one rejected, one retried');
    const v1 = ks.validations;
    await get(small, '/v1/segments', 'admin-token');
    await get(small, '/v1/segments', 'reader-token');
    assert.equal(ks.validations - v1, 2, 'size 1: each token pushed the other out');
  });

  test('Keystone unreachable: 503, not 401', async () => {
    const dead = new FakeKeystone();
    await dead.start();
    const deadApp = keystoneApp(dead, store);
    await dead.stop();
    const r = await get(deadApp, '/v1/segments', 'admin-token');
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as any).serviceUnavailable.message, 'The Keystone service is temporarily unavailable.');
  });
});

test('no JSON log line of the API and the token validator repeats a key', async () => {
  await new Promise((r) => setTimeout(r, 50)); // pino writes asynchronously
  assert.ok(checked.raw.length > 0, 'the tests above logged');
  assert.deepEqual(checked.problems, []);
});
