// Group commit of SQLite intake (src/core/store/sqlite/group-commit.ts): calls that share a transaction still see
// each other in order, a failing one is rejected alone, and a failed COMMIT rejects every caller of the batch.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { openConnection } from '../../src/core/store/sqlite/connection.ts';
import { groupCommitter } from '../../src/core/store/sqlite/group-commit.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-gc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('identical notifications in one batch: exactly one is created, the rest are duplicates of it', async () => {
  const file = join(dir, 'dups.sqlite');
  const store = openSqliteStore({ path: file });
  try {
    const seg = await store.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
    const host = await store.createHost(seg.uuid, { name: 'n1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date());
    const generatedTime = new Date();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.createNotification(
          {
            uuid: randomUUID(),
            type: 'COMPUTE_HOST',
            generatedTime,
            sourceHostUuid: host.uuid,
            payload:
              i % 2
                ? { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' }
                : { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' },
          },
          180_000,
          new Date(),
        ),
      ),
    );
    const created = results.filter((r) => r.created);
    assert.equal(created.length, 1);
    assert.equal(results[0]!.created, true, 'arrival order: the first call is the one inserted');
    for (const r of results.slice(1)) assert.ok(!r.created && r.existing.uuid === (created[0] as { notification: { uuid: string } }).notification.uuid);
    const other = new Database(file, { readonly: true });
    assert.equal(other.prepare('SELECT COUNT(*) FROM notifications').pluck().get(), 1);
    other.close();
  } finally {
    await store.close();
  }
});

test('a failing operation is rejected alone; the others of its batch commit', async () => {
  const conn = openConnection(join(dir, 'alone.sqlite'), 1000);
  conn.db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  const gc = groupCommitter(conn);
  const ins = (k: string) => gc.run(() => conn.stmt('INSERT INTO t (k) VALUES (?)').run(k).changes);
  const [a, b, c] = await Promise.allSettled([ins('a'), gc.run(() => (ins0(), thrower())), ins('c')]);
  function ins0() {
    conn.stmt('INSERT INTO t (k) VALUES (?)').run('b'); // written, then undone by its savepoint
  }
  function thrower(): never {
    throw new Error('boom');
  }
  assert.equal(a.status, 'fulfilled');
  assert.equal(b.status, 'rejected');
  assert.equal(c.status, 'fulfilled');
  assert.deepEqual(conn.db.prepare('SELECT k FROM t ORDER BY k').pluck().all(), ['a', 'c']);
  conn.close();
});

test('a COMMIT that fails rejects every caller of the batch, and nothing of it is on disk', async () => {
  const file = join(dir, 'commit-fails.sqlite');
  const conn = openConnection(file, 1000);
  conn.db.exec('CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id))');
  const gc = groupCommitter(conn);
  const results = await Promise.allSettled([
    gc.run(() => conn.stmt('INSERT INTO p (id) VALUES (1)').run()),
    // Deferred foreign keys are checked at COMMIT only: this makes the batch's COMMIT fail.
    gc.run(() => (conn.db.pragma('defer_foreign_keys = ON'), conn.stmt('INSERT INTO c (id, p) VALUES (1, 99)').run())),
    gc.run(() => conn.stmt('INSERT INTO p (id) VALUES (2)').run()),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  );
  assert.equal(conn.db.inTransaction, false);
  conn.close();
  const other = new Database(file, { readonly: true });
  assert.equal(other.prepare('SELECT COUNT(*) FROM p').pluck().get(), 0);
  other.close();
});

test('a batch that cannot take the write lock rejects every caller', async () => {
  const file = join(dir, 'busy.sqlite');
  const conn = openConnection(file, 50);
  conn.db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  const holder = new Database(file);
  holder.exec('BEGIN IMMEDIATE');
  const gc = groupCommitter(conn);
  const results = await Promise.allSettled(['a', 'b'].map((k) => gc.run(() => conn.stmt('INSERT INTO t (k) VALUES (?)').run(k))));
  holder.exec('ROLLBACK');
  holder.close();
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  assert.equal(conn.db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 0);
  conn.close();
});
