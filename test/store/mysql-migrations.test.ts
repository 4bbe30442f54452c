// The MySQL store's schema and opening: embedded migrations, the migrator, session settings, database.url,
// openStore and `masakari db sync|version|purge`, against a real MariaDB (a private mariadbd for this file).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/core/config/load.ts';
import { isDuplicateKey, openPool, type Db } from '../../src/core/store/mysql/connection.ts';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import { migrate, schemaVersion, statementsOf } from '../../src/core/store/mysql/migrate.ts';
import { SchemaError } from '../../src/core/store/errors.ts';
import { migrationsDir, renderIndex } from '../../src/core/store/sql/build-migrations-index.ts';
import { migrations } from '../../src/core/store/mysql/migrations/index.ts';
import { notificationList } from '../../src/core/store/mysql/notifications.ts';
import { parseMysqlUrl } from '../../src/core/store/mysql/url.ts';
import { listSql } from '../../src/core/store/sql/listing.ts';
import type { ListQuery, NotificationFilters } from '../../src/core/store/types.ts';
import { DatabaseUrlError, openStore, parseDatabaseUrl } from '../../src/core/store/open.ts';
import { MariaDbLab, mariadbAvailable, MARIADB_COMPONENT } from '../labs/mariadb/lab.ts';
import { requireComponent } from '../support/components.ts';

const available = mariadbAvailable();
let lab: MariaDbLab | undefined;
before(async () => {
  if (available) lab = await MariaDbLab.start();
});
after(async () => {
  await lab?.stop();
});

/** Runs `body` with a pool on a fresh database, always closing it. */
async function withPool(body: (db: Db, url: string) => Promise<void>) {
  const url = await lab!.createDatabase('schema');
  const db = openPool(parseMysqlUrl(url));
  try {
    await body(db, url);
  } finally {
    await db.close();
  }
}

test('migrations/index.ts embeds exactly the committed .sql files (run build-index.ts after editing them)', () => {
  assert.equal(readFileSync(join(migrationsDir('mysql'), 'index.ts'), 'utf8'), renderIndex('mysql'));
  assert.ok(migrations.length >= 1);
  assert.deepEqual(
    migrations.map((m) => m.name),
    [...migrations.map((m) => m.name)].sort(),
  );
  for (const m of migrations) assert.ok(statementsOf(m.sql).length > 0, m.name);
});

test('schema.ts matches the committed migration snapshot (drizzle-kit has nothing to generate)', { timeout: 60_000 }, () => {
  const root = join(import.meta.dirname, '..', '..');
  const tmp = mkdtempSync(join(tmpdir(), 'masakari-drizzle-'));
  try {
    cpSync(join(migrationsDir('mysql'), 'meta'), join(tmp, 'out', 'meta'), { recursive: true });
    // drizzle-kit resolves --out against its working directory, hence cwd = tmp and a relative --out.
    const out = execFileSync(
      join(root, 'node_modules', '.bin', 'drizzle-kit'),
      ['generate', '--dialect', 'mysql', '--schema', join(root, 'src', 'core', 'store', 'mysql', 'schema.ts'), '--out', 'out'],
      { cwd: tmp, encoding: 'utf8', timeout: 60_000 },
    );
    assert.match(out, /No schema changes/, out);
    assert.deepEqual(readdirSync(join(tmp, 'out')), ['meta'], 'no new migration was written');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("database.url: our spelling, SQLAlchemy's, sockets; malformed URLs are config errors without the password", () => {
  assert.deepEqual(parseMysqlUrl('mysql://masakari:p%40ss%2Fword@db.example:3307/masakari'), {
    host: 'db.example',
    port: 3307,
    user: 'masakari',
    password: 'p@ss/word',
    database: 'masakari',
    endpoints: [{ host: 'db.example', port: 3307 }],
    display: 'db.example:3307/masakari',
  });
  const py = parseMysqlUrl('mysql+pymysql://m:pw@10.0.0.5/masakari?charset=utf8');
  assert.equal(py.host, '10.0.0.5');
  assert.equal(py.port, 3306);
  assert.equal(py.database, 'masakari');
  assert.equal(parseMysqlUrl('mariadb://m:pw@[::1]:3306/x').host, '::1');
  const sock = parseMysqlUrl('mysql://m:pw@localhost/masakari?unix_socket=/run/mysqld/mysqld.sock');
  assert.equal(sock.socketPath, '/run/mysqld/mysqld.sock');
  assert.equal(sock.display, '/run/mysqld/mysqld.sock/masakari');
  assert.deepEqual(parseDatabaseUrl('mysql+pymysql://m:pw@h/db', '/d'), { dialect: 'mysql', url: 'mysql+pymysql://m:pw@h/db' });
  for (const bad of ['mysql://m:secret@h/', 'mysql://m:secret@h/db?sslmode=x', 'mysql://:secret@h/db']) {
    assert.throws(
      () => parseDatabaseUrl(bad, '/d'),
      (e: unknown) => e instanceof DatabaseUrlError && !e.message.includes('secret'),
      bad,
    );
  }
});

test("duplicate-key errors are recognised in MariaDB's and MySQL 8's wording, for the named index only", () => {
  const err = (sqlMessage: string, code = 'ER_DUP_ENTRY') => Object.assign(new Error(sqlMessage), { code, sqlMessage });
  assert.equal(isDuplicateKey(err("Duplicate entry 'node1' for key 'hosts_live_name'"), 'hosts_live_name'), true);
  assert.equal(isDuplicateKey(err("Duplicate entry 'node1' for key 'hosts.hosts_live_name'"), 'hosts_live_name'), true);
  assert.equal(isDuplicateKey(err("Duplicate entry 'x' for key 'PRIMARY'"), 'PRIMARY'), true);
  assert.equal(isDuplicateKey(err("Duplicate entry 'x' for key 'host_recovery_claims.PRIMARY'"), 'PRIMARY'), true);
  assert.equal(isDuplicateKey(err("Duplicate entry 'x' for key 'hosts_uuid'"), 'hosts_live_name'), false);
  assert.equal(isDuplicateKey(err("Duplicate entry 'x' for key 'x_hosts_live_name'"), 'hosts_live_name'), false);
  assert.equal(isDuplicateKey(err('Lock wait timeout exceeded', 'ER_LOCK_WAIT_TIMEOUT'), 'PRIMARY'), false);
  assert.equal(isDuplicateKey(undefined, 'PRIMARY'), false);
});

test('a lock wait timeout is run again like a deadlock; still timing out after retry_attempts: DATABASE_UNAVAILABLE', { timeout: 60_000 }, async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  const url = await lab!.createDatabase('lockwait');
  const holder = openPool(parseMysqlUrl(url));
  const db = openPool(parseMysqlUrl(url), { lockWaitTimeoutMs: 1000, retryAttempts: 2 });
  let release: (() => void) | undefined;
  try {
    await holder.run('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB');
    await holder.run('INSERT INTO t VALUES (1, 0)');
    // Another session holds the row lock for longer than two lock waits: two runs, then a clear error.
    const held = holder.tx(async (c) => {
      await c.rows('SELECT v FROM t WHERE id = 1 FOR UPDATE');
      await new Promise<void>((r) => (release = r));
    });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await assert.rejects(
      db.tx(async (c) => c.run('UPDATE t SET v = v + 1 WHERE id = 1')),
      (e: Error & { code?: string }) =>
        e.code === 'DATABASE_UNAVAILABLE' && /still in conflict after 2 runs/.test(e.message) && /Lock wait timeout/.test(e.message),
    );
    assert.ok(Date.now() - started >= 1900, 'two lock waits of 1 s');
    // Released after the first wait timed out: the second run goes through, exactly once.
    const t2 = Date.now();
    const second = db.tx(async (c) => c.run('UPDATE t SET v = v + 1 WHERE id = 1'));
    setTimeout(() => release!(), 1300);
    await held;
    await second;
    assert.ok(Date.now() - t2 >= 1200, 'the first run timed out, the second went through');
    assert.deepEqual(await holder.rows('SELECT v FROM t WHERE id = 1'), [{ v: 1 }]);
  } finally {
    release?.();
    await db.close();
    await holder.close();
  }
});

test('the schema: InnoDB, utf8mb4_bin, live-name uniqueness through the generated column', async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  await withPool(async (db, url) => {
    await migrate(db, 1);
    const tables = await db.rows(
      `SELECT table_name AS t, engine AS e, table_collation AS c FROM information_schema.tables
       WHERE table_schema = DATABASE() ORDER BY table_name`,
    );
    assert.deepEqual(tables.map((r) => String(r.t)).sort(), [
      'agent_heartbeats',
      'events',
      'failover_segments',
      'host_recovery_claims',
      'hosts',
      'notification_intake_locks',
      'notifications',
      'schema_migrations',
      'vmoves',
      'workflow_tasks',
    ]);
    for (const r of tables) {
      assert.equal(r.e, 'InnoDB', String(r.t));
      assert.equal(r.c, 'utf8mb4_bin', String(r.t));
    }
    // Byte-wise and case-sensitive, like SQLite: 'Node1' and 'node1' are different hosts.
    const s = await openMysqlStore({ url, migrate: false });
    try {
      const seg = await s.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
      const h = { type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false };
      await s.createHost(seg.uuid, { name: 'node1', ...h }, new Date());
      await s.createHost(seg.uuid, { name: 'Node1', ...h }, new Date());
      assert.equal((await s.getHostByName('Node1'))!.name, 'Node1');
    } finally {
      await s.close();
    }
  });
});

test('the common notification lists walk an index in order (no filesort), with and without a marker', async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  await withPool(async (db) => {
    await migrate(db, 1);
    // 20000 rows (MariaDB's sequence engine), 2% soft-deleted, so the optimizer has a real choice to make.
    await db.run(`INSERT INTO notifications (uuid, created_at, type, generated_time, source_host_uuid, payload, status, deleted)
      SELECT UUID(), seq * 1000, 'VM', seq, CONCAT('h', seq % 10), '{}', ELT(1 + seq % 4, 'new', 'running', 'finished', 'error'),
             IF(seq % 50 = 0, 1, 0)
      FROM seq_1_to_20000`);
    await db.run('ANALYZE TABLE notifications');
    const marker = (await db.rows('SELECT * FROM notifications WHERE id = 10001'))[0]!;
    const cases: [ListQuery<NotificationFilters>, string][] = [
      [{ filters: {}, sort: [], limit: 50 }, 'notifications_live_created'],
      [{ filters: { status: 'new' }, sort: [], limit: 50 }, 'notifications_live_status_created'],
      [{ filters: { sourceHostUuid: 'h3' }, sort: [], limit: 50 }, 'notifications_live_source_created'],
      [{ filters: {}, sort: [{ key: 'generated_time', dir: 'asc' }], limit: 50 }, 'notifications_live_generated'],
    ];
    for (const [q, index] of cases) {
      for (const m of [undefined, marker]) {
        const { sql, params } = listSql(notificationList, q, m);
        const plan = await db.rows(`EXPLAIN ${sql}`, params);
        const what = `${JSON.stringify(q)}${m ? ' after a marker' : ''}: ${JSON.stringify(plan)}`;
        assert.equal(plan.length, 1, what);
        assert.equal(plan[0]!.key, index, what);
        assert.doesNotMatch(String(plan[0]!.Extra), /filesort|temporary/, what);
      }
    }
  });
});

test('migrate applies each migration once, records it, and two migrators at once apply it once', async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  await withPool(async (db, url) => {
    assert.deepEqual(await schemaVersion(db), { current: 0, latest: migrations.length });
    const other = openPool(parseMysqlUrl(url));
    try {
      const [x, y] = await Promise.all([migrate(db, 1), migrate(other, 2)]);
      assert.deepEqual(
        [...x.applied, ...y.applied],
        migrations.map((m) => m.name),
        'each migration applied by exactly one of them',
      );
    } finally {
      await other.close();
    }
    assert.deepEqual(await migrate(db, 3), { applied: [] });
    assert.deepEqual(await schemaVersion(db), { current: migrations.length, latest: migrations.length });
    assert.deepEqual(
      (await db.rows('SELECT name FROM schema_migrations ORDER BY name')).map((r) => r.name),
      migrations.map((m) => m.name),
    );
  });
});

test('0001 upgrade: unfinished notifications written before it get a payload key, so they still catch duplicates', async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  const url = await lab!.createDatabase('upgrade0001');
  const db = openPool(parseMysqlUrl(url));
  const at = new Date(Date.UTC(2026, 10, 22));
  try {
    await migrate(db, 1, migrations.slice(0, 1)); // the schema as released before 0001
    await db.run(`INSERT INTO failover_segments (uuid, created_at, name, recovery_method, service_type) VALUES ('s1', 1, 'seg', 'auto', 'COMPUTE')`);
    await db.run(`INSERT INTO hosts (uuid, created_at, name, type, control_attributes, failover_segment_id) VALUES ('h1', 1, 'c1', 'COMPUTE', 'SSH', 's1')`);
    const insert = `INSERT INTO notifications (uuid, created_at, type, generated_time, source_host_uuid, payload, status) VALUES (?, 1, 'VM', ?, 'h1', ?, ?)`;
    await db.run(insert, ['n-new', at.getTime() * 1000, '{"instance_uuid":"i-1","event":"LIFECYCLE","vir_domain_event":"STOPPED_FAILED"}', 'new']);
    await db.run(insert, ['n-done', at.getTime() * 1000, '{"instance_uuid":"i-2","event":"LIFECYCLE","vir_domain_event":"STOPPED_FAILED"}', 'finished']);
  } finally {
    await db.close();
  }
  const store = await openMysqlStore({ url });
  try {
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
    const other = await store.createNotification(
      {
        uuid: 'n-other',
        type: 'VM',
        generatedTime: at,
        sourceHostUuid: 'h1',
        payload: { event: 'LIFECYCLE', vir_domain_event: 'STOPPED_FAILED', instance_uuid: 'i-2' },
      },
      180_000,
      at,
    );
    assert.equal(other.created, true, 'a finished notification is not a duplicate target, key or not');
  } finally {
    await store.close();
  }
});

test('0002 upgrade: a recovery claim held during the upgrade stays held, under its key column recovery_key', async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  const url = await lab!.createDatabase('upgrade0002');
  const db = openPool(parseMysqlUrl(url));
  const now = new Date(Date.UTC(2026, 11, 7));
  try {
    await migrate(db, 1, migrations.slice(0, 2)); // the schema as released before 0002
    // An instance failure's claim, as the engine wrote it into the column then named host_name.
    await db.run('INSERT INTO host_recovery_claims (host_name, notification_uuid, owner, expires_at) VALUES (?, ?, ?, ?)', [
      'instance:i-1',
      'n1',
      'c1',
      (now.getTime() + 60_000) * 1000,
    ]);
  } finally {
    await db.close();
  }
  const store = await openMysqlStore({ url }); // applies 0002
  try {
    assert.equal(await store.claimHostRecovery('instance:i-1', 'n2', 'c2', 60_000, now), false, 'still held by n1');
    assert.equal(await store.claimHostRecovery('instance:i-1', 'n1', 'c1', 60_000, now), true, 'renewed by its holder');
    await store.releaseHostRecovery('instance:i-1', 'n1');
    assert.equal(await store.claimHostRecovery('instance:i-1', 'n2', 'c2', 60_000, now), true, 'free once released');
  } finally {
    await store.close();
  }
});

test('a failing migration is not recorded and the error names the statement', async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  await withPool(async (db) => {
    const broken = [
      { name: '0000_ok', sql: 'CREATE TABLE a (x INT) ENGINE=InnoDB;' },
      { name: '0001_broken', sql: 'CREATE TABLE b (x INT) ENGINE=InnoDB;\n--> statement-breakpoint\nINSERT INTO nope VALUES (1);' },
    ];
    await assert.rejects(
      migrate(db, 1, broken),
      (e: unknown) => e instanceof SchemaError && /0001_broken failed at statement 2 of 2/.test(e.message) && /statements 1\.\.1 were applied/.test(e.message),
    );
    assert.deepEqual(await schemaVersion(db, broken), { current: 1, latest: 2 });
  });
});

test('a database migrated by a newer masakari is refused with a clear error', async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  await withPool(async (db, url) => {
    await migrate(db, 1);
    await db.run('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)', ['9999_from_the_future', 1]);
    await assert.rejects(openMysqlStore({ url }), (e: unknown) => e instanceof SchemaError && /9999_from_the_future/.test(e.message));
  });
});

test('pooled connections use READ COMMITTED, strict sql_mode and the configured lock wait', async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  await withPool(async (db) => {
    const db2 = openPool(parseMysqlUrl(lab!.url((await db.rows('SELECT DATABASE() AS d'))[0]!.d as string)), { lockWaitTimeoutMs: 2500 });
    try {
      // Several connections at once, so more than the first pooled connection is checked.
      const rows = await Promise.all(
        Array.from({ length: 3 }, () => db2.rows('SELECT @@tx_isolation AS iso, @@sql_mode AS mode, @@innodb_lock_wait_timeout AS wait, SLEEP(0.05)')),
      );
      for (const [r] of rows) {
        assert.equal(r!.iso, 'READ-COMMITTED');
        assert.match(String(r!.mode), /STRICT_ALL_TABLES/);
        assert.equal(Number(r!.wait), 3);
      }
    } finally {
      await db2.close();
    }
  });
});

test('openStore and `masakari db sync|version|purge` work on MySQL', { timeout: 240_000 }, async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  const url = await lab!.createDatabase('cli');
  const config = (database: object) => parseConfig({ data_dir: '/nonexistent', database: { url, ...database } }, 'test');
  await assert.rejects(openStore(config({})), (e: unknown) => e instanceof SchemaError && /masakari db sync/.test(e.message));

  const root = join(import.meta.dirname, '..', '..');
  const masakari = (args: string[], dbUrl = url) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(root, 'src', 'main.ts'), ...args, '--database', dbUrl],
        { cwd: root, timeout: 60_000, env: { ...process.env, MASAKARI_CONFIG: '' } },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
  const v0 = await masakari(['db', 'version']);
  assert.equal(v0.code, 0, v0.stderr);
  assert.equal(v0.stdout, '0\n');
  const s1 = await masakari(['db', 'sync']);
  assert.equal(s1.code, 0, s1.stderr);
  assert.equal(s1.stdout, [...migrations.map((m) => `applied ${m.name}`), `database schema is now at version ${migrations.length}`, ''].join('\n'));

  const store = await openStore(config({}));
  let oldUuid: string;
  try {
    assert.equal(store.dialect, 'mysql');
    const DAY = 86_400_000;
    const then = new Date(Date.now() - 40 * DAY);
    const seg = await store.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, then);
    const host = await store.createHost(seg.uuid, { name: 'n1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, then);
    const r = await store.createNotification(
      { uuid: randomUUID(), type: 'VM', generatedTime: then, sourceHostUuid: host.uuid, payload: { old: true } },
      0,
      then,
    );
    assert.ok(r.created);
    oldUuid = r.notification.uuid;
    await store.setNotificationStatus(oldUuid, 'finished', then);
  } finally {
    await store.close();
  }
  const p = await masakari(['db', 'purge', '--age-days', '30']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^notifications: 1 rows purged$/m);
  const v1 = await masakari(['db', 'version']);
  assert.equal(v1.stdout, `${migrations.length}\n`);

  const check = await openStore(config({}));
  try {
    assert.equal(await check.getNotification(oldUuid), undefined);
  } finally {
    await check.close();
  }

  const wrong = await masakari(['db', 'version'], url.replace(/:[^:@/]+@/, ':wrong-password@'));
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /cannot connect to MySQL\/MariaDB at 127\.0\.0\.1:\d+\/cli_\d+_\d+ as masakari: Access denied/);
  assert.doesNotMatch(wrong.stderr, /wrong-password/);
});
