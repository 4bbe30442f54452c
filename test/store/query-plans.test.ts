// The list queries the API runs most must walk an index in the requested order (no full scan, no sort of the whole
// table), so a page costs the same with 100 or 10 million notifications. Checked with SQLite's EXPLAIN QUERY PLAN
// on the exact SQL the store builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openConnection } from '../../src/core/store/sqlite/connection.ts';
import { migrate } from '../../src/core/store/sqlite/migrate.ts';
import { listSql, type ListSpec } from '../../src/core/store/sql/listing.ts';
import { hostList, segmentList, vmoveList } from '../../src/core/store/sql/lists.ts';
import { notificationList } from '../../src/core/store/sqlite/notifications.ts';
import type { ListQuery } from '../../src/core/store/types.ts';

const markerRow = { id: 7, created_at: 1_000, generated_time: 2_000, updated_at: 3_000, status: 'new' };

function plan<F>(spec: ListSpec<F>, q: ListQuery<F>, withMarker: boolean): string {
  const conn = openConnection(':memory:', 100);
  try {
    migrate(conn.db, 1);
    const { sql, params } = listSql(spec, q, withMarker ? markerRow : undefined);
    return (conn.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
  } finally {
    conn.close();
  }
}

const cases: [string, () => string][] = [];
const add = <F>(name: string, spec: ListSpec<F>, q: Omit<ListQuery<F>, 'limit'>) => {
  for (const withMarker of [false, true]) {
    cases.push([`${name}${withMarker ? ' after a marker' : ''}`, () => plan(spec, { ...q, limit: 50 }, withMarker)]);
  }
};
add('segments, default order', segmentList, { filters: {}, sort: [] });
add('hosts of a segment, default order', hostList, { filters: { segmentUuid: 's' }, sort: [] });
add('notifications, default order', notificationList, { filters: {}, sort: [] });
add('notifications by status', notificationList, { filters: { status: 'new' }, sort: [] });
add('notifications by source host', notificationList, { filters: { sourceHostUuid: 'h' }, sort: [] });
add('notifications by generated_time', notificationList, { filters: {}, sort: [{ key: 'generated_time', dir: 'desc' }] });
add('notifications by created_at asc', notificationList, { filters: {}, sort: [{ key: 'created_at', dir: 'asc' }] });
add('vmoves of a notification, default order', vmoveList, { filters: { notificationUuid: 'n' }, sort: [] });

for (const [name, getPlan] of cases) {
  test(`query plan: ${name} uses an index in order`, () => {
    const p = getPlan();
    assert.match(p, /USING (COVERING )?INDEX/, p);
    assert.doesNotMatch(p, /TEMP B-TREE/, p);
  });
}

test('query plan: a marker narrows the index range instead of scanning from the start', () => {
  const p = plan(notificationList, { filters: {}, sort: [], limit: 50 }, true);
  assert.match(p, /SEARCH notifications USING INDEX \w+ \(created_at<\?\)/, p);
});
