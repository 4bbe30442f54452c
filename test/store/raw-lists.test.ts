// SQLite lists read array rows (`.raw(true)`) and key them in JavaScript for speed: the keyed rows must be exactly
// what better-sqlite3's own `.all()` returns (same keys in the same order, same values, NULLs included), and the
// keyed-row statements must stay keyed (raw mode is a flag of a cached statement).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openConnection } from '../../src/core/store/sqlite/connection.ts';
import { migrate } from '../../src/core/store/sqlite/migrate.ts';
import { listRawRows, listRows } from '../../src/core/store/sqlite/listing.ts';
import { listSql } from '../../src/core/store/sql/listing.ts';
import { segmentList } from '../../src/core/store/sql/lists.ts';
import { toSegment } from '../../src/core/store/sql/rows.ts';
import { notificationList } from '../../src/core/store/sqlite/notifications.ts';
import { segmentAt } from '../../src/core/store/sqlite/rows.ts';
import type { SegmentRow } from '../../src/core/store/sqlite/schema.ts';

test('raw-read list rows equal the keyed rows of .all(), and keyed statements stay keyed', () => {
  const conn = openConnection(':memory:', 100);
  try {
    migrate(conn.db, 1);
    const ins = conn.db.prepare(
      `INSERT INTO failover_segments (uuid, created_at, updated_at, name, description, recovery_method, service_type, enabled)
       VALUES (?, ?, ?, ?, ?, 'auto', 'COMPUTE', ?)`,
    );
    for (let i = 0; i < 5; i++) ins.run(`u-${i}`, 1_700_000_000_123_456 + i, i % 2 ? 1_700_000_001_000_001 : null, `s-${i}`, i % 2 ? 'd' : null, i % 2);
    const q = { filters: {}, sort: [], limit: 50 };
    const { sql, params } = listSql(segmentList, q, undefined);
    const expected = conn.stmt<SegmentRow>(sql).all(...params);
    const keyed = listRows(conn, segmentList, q);
    assert.deepEqual(keyed, expected);
    assert.deepEqual(
      keyed.map((r) => Object.keys(r)),
      expected.map((r) => Object.keys(r)),
    );
    const { rows, cols } = listRawRows(conn, segmentList, q);
    assert.deepEqual(
      rows.map((a) => segmentAt(a, cols)),
      expected.map(toSegment),
    );
    // The same SQL text through the plain statement cache still gives objects.
    assert.equal(Array.isArray(conn.stmt(sql).all(...params)[0]), false);
    // A different table (its own column list) and an empty page.
    assert.deepEqual(listRows(conn, notificationList, q), []);
    assert.deepEqual(listRows(conn, segmentList, { ...q, limit: 0 }), []);
  } finally {
    conn.close();
  }
});
