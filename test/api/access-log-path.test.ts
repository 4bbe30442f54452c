// The access log names the path the client sent, also for the /v1/{project_id}/... form (routed as /v1/...): an
// operator reading it must see which catalog endpoint form a client (masakari-monitors, openstacksdk) used. Found
// by test/clients/masakari-monitors.test.ts, whose monitors' /v1/{project_id}/notifications were logged as
// /v1/notifications.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createApiApp, type ApiApp } from '../../src/core/api/app.ts';
import { rawPath } from '../../src/core/api/middleware/access-log.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { KeystoneTokenValidator } from '../../src/drivers/identity/keystone.ts';
import { FAKE_PROJECT, FakeKeystone } from './fake-keystone.ts';
import { captureLog } from './log-capture.ts';

const ks = new FakeKeystone();
const captured = captureLog('info');
let store: Store;
let app: ApiApp;

before(async () => {
  await ks.start();
  store = openSqliteStore({ path: ':memory:' });
  const config = parseConfig({ api: { auth_strategy: 'keystone', keystone: { auth_url: `${ks.url}/v3`, password: 'secret', timeout_seconds: 2 } } }, 'test');
  app = createApiApp({
    store,
    config,
    log: captured.log,
    hostCatalog: acceptAllHostCatalog,
    tokenValidator: new KeystoneTokenValidator(config.api.keystone, captured.log),
  });
});
after(async () => {
  await ks.stop();
  await store.close();
});

test('both endpoint forms are served, and each is logged with the path the client sent (without the query)', async () => {
  for (const path of ['/v1/segments?limit=5', `/v1/${FAKE_PROJECT}/segments?limit=5`]) {
    const r = await app.request(`http://masakari.test${path}`, { headers: { 'X-Auth-Token': 'admin-token' } });
    assert.equal(r.status, 200, path);
  }
  const logged = captured.lines.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.status].join(' '));
  assert.deepEqual(logged, ['GET /v1/segments 200', `GET /v1/${FAKE_PROJECT}/segments 200`]);
});

test('rawPath: the undecoded path of an absolute URL', () => {
  assert.equal(rawPath('http://h:1/v1/abc/notifications?x=1'), '/v1/abc/notifications');
  assert.equal(rawPath('http://h/v1/a%20b'), '/v1/a%20b');
  assert.equal(rawPath('http://h'), '/');
  assert.equal(rawPath('http://h?q'), '/');
});
