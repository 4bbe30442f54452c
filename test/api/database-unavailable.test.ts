// The API never answers 500 for a database that could not serve: a DATABASE_UNAVAILABLE from the store (no node of
// database.url could serve, or a segment/host edit whose COMMIT met a node failure, its outcome unknown: docs/ha.md,
// "Galera") answers 503 serviceUnavailable in Masakari's envelope, telling the client to check and retry. The store
// is the real SQLite one; only the failing call is replaced by the error the MySQL store throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { DatabaseUnavailableError } from '../../src/core/store/mysql/connection.ts';
import type { Store } from '../../src/core/store/types.ts';
import { seed, testApi } from './support.ts';

test('a DATABASE_UNAVAILABLE answers 503 serviceUnavailable (outcome unknown for a change), never 500', async () => {
  const real = openSqliteStore({ path: ':memory:' });
  let down = false;
  const unknown = () =>
    new DatabaseUnavailableError('MySQL/MariaDB mysql://u:***@db1:3306/m: commit outcome unknown (last node tried: db1:3306: PROTOCOL_CONNECTION_LOST)');
  const store: Store = {
    ...real,
    updateSegment: (...a) => (down ? Promise.reject(unknown()) : real.updateSegment(...a)),
    createHost: (...a) => (down ? Promise.reject(unknown()) : real.createHost(...a)),
    listSegments: (...a) => (down ? Promise.reject(unknown()) : real.listSegments(...a)),
  };
  const api = testApi({}, { store });
  try {
    const { segment } = await seed(api, 'seg-1', []);
    down = true;
    const put = await api.call('PUT', `/v1/segments/${segment}`, { body: { segment: { description: 'x' } } });
    assert.equal(put.status, 503, put.text);
    assert.match(put.headers.get('content-type')!, /^application\/json/);
    assert.equal(put.body.serviceUnavailable.code, 503);
    assert.match(put.body.serviceUnavailable.message, /DATABASE_UNAVAILABLE.*outcome of this request is unknown.*Check/);
    assert.doesNotMatch(put.text, /db1|\*\*\*|PROTOCOL/, 'node names and reasons stay in the log');
    const post = await api.call('POST', `/v1/segments/${segment}/hosts`, { body: { host: { name: 'c1', type: 'COMPUTE', control_attributes: 'SSH' } } });
    assert.equal(post.status, 503, post.text);
    const get = await api.call('GET', '/v1/segments');
    assert.equal(get.status, 503, get.text);
    assert.match(get.body.serviceUnavailable.message, /^The database is unavailable \(DATABASE_UNAVAILABLE\)\. Retry later\.$/);
    down = false;
    assert.equal((await api.call('GET', '/v1/segments')).status, 200);
  } finally {
    await api.close();
    await real.close();
  }
});
