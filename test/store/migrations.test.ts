import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { renderIndex, migrationsDir } from '../../src/core/store/sql/build-migrations-index.ts';
import { migrations } from '../../src/core/store/sqlite/migrations/index.ts';
import { migrate, schemaVersion } from '../../src/core/store/sqlite/migrate.ts';
import { SchemaError } from '../../src/core/store/errors.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { openConnection } from '../../src/core/store/sqlite/connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-migrations-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('migrations/index.ts embeds exactly the committed .sql files (run build-index.ts after editing them)', () => {
  assert.equal(readFileSync(join(migrationsDir('sqlite'), 'index.ts'), 'utf8'), renderIndex('sqlite'));
  assert.ok(migrations.length >= 1);
  assert.deepEqual(
    migrations.map((m) => m.name),
    [...migrations.map((m) => m.name)].sort(),
  );
});

test('migrate applies each migration once and records it', () => {
  const db = new Database(join(dir, 'a.sqlite'));
  try {
    assert.deepEqual(schemaVersion(db), { current: 0, latest: migrations.length });
    assert.deepEqual(migrate(db, 1), { applied: migrations.map((m) => m.name) });
    assert.deepEqual(migrate(db, 2), { applied: [] });
    assert.deepEqual(schemaVersion(db), { current: migrations.length, latest: migrations.length });
    const rows = db.prepare('SELECT name, applied_at FROM schema_migrations ORDER BY name').all();
    assert.deepEqual(
      rows,
      migrations.map((m) => ({ name: m.name, applied_at: 1 })),
    );
  } finally {
    db.close();
  }
});

test('a failing migration leaves nothing half-applied', () => {
  const db = new Database(':memory:');
  try {
    const broken = [
      { name: '0000_ok', sql: 'CREATE TABLE a (x INTEGER);' },
      { name: '0001_broken', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1);' },
    ];
    assert.throws(
      () => migrate(db, 1, broken),
      (e: unknown) => e instanceof SchemaError && /0001_broken/.test(e.message),
    );
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(tables, ['a', 'schema_migrations']);
    assert.deepEqual(schemaVersion(db, broken), { current: 1, latest: 2 });
  } finally {
    db.close();
  }
});

test('a database migrated by a newer masakari is refused with a clear error', () => {
  const path = join(dir, 'future.sqlite');
  const db = new Database(path);
  migrate(db, 1);
  db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run('9999_from_the_future', 1);
  db.close();
  assert.throws(
    () => openSqliteStore({ path }),
    (e: unknown) => e instanceof SchemaError && /9999_from_the_future/.test(e.message),
  );
});

test('0002 upgrade: a recovery claim held during the upgrade stays held, under its key column recovery_key', async () => {
  const file = join(dir, 'upgrade-0002.sqlite');
  const db = new Database(file);
  const now = new Date(Date.UTC(2026, 11, 7));
  try {
    migrate(db, 1, migrations.slice(0, 2)); // the schema as released before 0002
    // An instance failure's claim, as the engine wrote it into the column then named host_name.
    db.prepare('INSERT INTO host_recovery_claims (host_name, notification_uuid, owner, expires_at) VALUES (?, ?, ?, ?)').run(
      'instance:i-1',
      'n1',
      'c1',
      (now.getTime() + 60_000) * 1000,
    );
  } finally {
    db.close();
  }
  const store = openSqliteStore({ path: file }); // applies 0002
  try {
    const check = new Database(file, { readonly: true });
    const columns = (check.prepare('PRAGMA table_info(host_recovery_claims)').all() as { name: string }[]).map((c) => c.name);
    check.close();
    assert.deepEqual(columns, ['recovery_key', 'notification_uuid', 'owner', 'expires_at']);
    assert.equal(await store.claimHostRecovery('instance:i-1', 'n2', 'c2', 60_000, now), false, 'still held by n1');
    assert.equal(await store.claimHostRecovery('instance:i-1', 'n1', 'c1', 60_000, now), true, 'renewed by its holder');
    await store.releaseHostRecovery('instance:i-1', 'n1');
    assert.equal(await store.claimHostRecovery('instance:i-1', 'n2', 'c2', 60_000, now), true, 'free once released');
  } finally {
    await store.close();
  }
});

test('connections use WAL, synchronous=NORMAL (the WAL is synced by wal-sync.ts), foreign keys and the busy timeout', () => {
  const conn = openConnection(join(dir, 'pragmas.sqlite'), 1234);
  try {
    assert.equal(conn.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(conn.db.pragma('synchronous', { simple: true }), 1); // NORMAL: COMMIT does not sync, wal-sync.ts does
    assert.equal(conn.db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(conn.db.pragma('busy_timeout', { simple: true }), 1234);
  } finally {
    conn.close();
  }
});

test('0001 upgrade: unfinished notifications written before it get a payload key, so they still catch duplicates', async () => {
  const file = join(dir, 'upgrade-0001.sqlite');
  const db = new Database(file);
  try {
    migrate(db, 1, migrations.slice(0, 1)); // the schema as released before 0001
    db.exec(`INSERT INTO failover_segments (uuid, created_at, name, recovery_method, service_type) VALUES ('s1', 1, 'seg', 'auto', 'COMPUTE')`);
    db.exec(`INSERT INTO hosts (uuid, created_at, name, type, control_attributes, failover_segment_id) VALUES ('h1', 1, 'c1', 'COMPUTE', 'SSH', 's1')`);
    const insert = db.prepare(
      `INSERT INTO notifications (uuid, created_at, type, generated_time, source_host_uuid, payload, status) VALUES (?, 1, 'VM', ?, 'h1', ?, ?)`,
    );
    const t = Date.UTC(2026, 10, 22) * 1000;
    insert.run('n-new', t, '{"instance_uuid":"i-1","event":"LIFECYCLE","vir_domain_event":"STOPPED_FAILED"}', 'new');
    insert.run('n-done', t, '{"instance_uuid":"i-2","event":"LIFECYCLE","vir_domain_event":"STOPPED_FAILED"}', 'finished');
  } finally {
    db.close();
  }
  const store = openSqliteStore({ path: file }); // applies 0001 and backfills
  try {
    const keys = new Database(file, { readonly: true });
    const rows = keys.prepare('SELECT uuid, payload_key FROM notifications ORDER BY uuid').all() as { uuid: string; payload_key: string | null }[];
    keys.close();
    assert.equal(rows.find((r) => r.uuid === 'n-done')!.payload_key, null, 'finished rows are left alone');
    assert.match(rows.find((r) => r.uuid === 'n-new')!.payload_key ?? '', /^[A-Za-z0-9_-]{43}$/);
    const at = new Date(Date.UTC(2026, 10, 22));
    // Same payload, other key order: a duplicate of the pre-upgrade row.
    const dup = await store.createNotification(
      {
        uuid: 'n-again',
        type: 'VM',
        generatedTime: at,
        sourceHostUuid: 'h1',
        payload: { event: 'LIFECYCLE', vir_domain_event: 'STOPPED_FAILED', instance_uuid: 'i-1' },
      },
      180_000,
      at,
    );
    assert.equal(dup.created, false);
    assert.equal(!dup.created && dup.existing.uuid, 'n-new');
    const fresh = await store.createNotification(
      {
        uuid: 'n-other',
        type: 'VM',
        generatedTime: at,
        sourceHostUuid: 'h1',
        payload: { event: 'LIFECYCLE', vir_domain_event: 'STOPPED_FAILED', instance_uuid: 'i-3' },
      },
      180_000,
      at,
    );
    assert.equal(fresh.created, true);
  } finally {
    await store.close();
  }
});
