import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/core/config/load.ts';
import { DatabaseUrlError, openStore, parseDatabaseUrl, SchemaError } from '../../src/core/store/open.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (database: object, dataDir = dir) => parseConfig({ data_dir: dataDir, database }, 'test');

test('parseDatabaseUrl understands sqlite paths, memory and mysql', () => {
  assert.deepEqual(parseDatabaseUrl('sqlite:masakari.sqlite', '/var/lib/m'), { dialect: 'sqlite', path: '/var/lib/m/masakari.sqlite' });
  assert.deepEqual(parseDatabaseUrl('sqlite:sub/x.db', '/d'), { dialect: 'sqlite', path: '/d/sub/x.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:/abs/x.db', '/d'), { dialect: 'sqlite', path: '/abs/x.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:////abs/x.db', '/d'), { dialect: 'sqlite', path: '/abs/x.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:///rel.db', '/d'), { dialect: 'sqlite', path: '/d/rel.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite::memory:', '/d'), { dialect: 'sqlite', path: ':memory:' });
  assert.equal(parseDatabaseUrl('mysql://u:p@h/db', '/d').dialect, 'mysql');
  assert.throws(() => parseDatabaseUrl('postgres://x', '/d'), DatabaseUrlError);
  assert.throws(() => parseDatabaseUrl('sqlite:', '/d'), DatabaseUrlError);
});

test('openStore creates the data directory and migrates when asked', async () => {
  const dataDir = join(dir, 'new', 'nested');
  const store = await openStore(config({ url: 'sqlite:m.sqlite', auto_migrate: true }, dataDir));
  try {
    assert.equal(store.dialect, 'sqlite');
    assert.ok(existsSync(join(dataDir, 'm.sqlite')));
    const v = await store.schemaVersion();
    assert.equal(v.current, v.latest);
  } finally {
    await store.close();
  }
});

test('openStore refuses an unmigrated database unless told to migrate', async () => {
  const c = config({ url: 'sqlite:unmigrated.sqlite' });
  await assert.rejects(openStore(c), (e: unknown) => e instanceof SchemaError && /masakari db sync/.test(e.message));
  const tolerant = await openStore(c, { requireCurrentSchema: false });
  assert.equal((await tolerant.schemaVersion()).current, 0);
  await tolerant.close();
  const migrated = await openStore(c, { migrate: true });
  await migrated.close();
  const plain = await openStore(c);
  await plain.close();
});

test('sqlite::memory: is always migrated; an unreachable mysql server is a clear error without the password', async () => {
  const mem = await openStore(config({ url: 'sqlite::memory:' }));
  const v = await mem.schemaVersion();
  assert.equal(v.current, v.latest);
  await mem.close();
  // Port 1 on loopback: nothing listens there. (test/store/mysql-open.test.ts covers a real MariaDB.)
  await assert.rejects(
    openStore(config({ url: 'mysql://u:secret-pw@127.0.0.1:1/masakari' })),
    (e: unknown) => e instanceof DatabaseUrlError && /127\.0\.0\.1:1\/masakari/.test(e.message) && !e.message.includes('secret-pw'),
  );
});

test('an unusable path gives a clear error', async () => {
  const notADir = join(dir, 'plain-file');
  writeFileSync(notADir, 'x');
  await assert.rejects(
    openStore(config({ url: `sqlite:${notADir}/sub/here.sqlite`, auto_migrate: true })),
    (e: unknown) => e instanceof DatabaseUrlError && e.message.includes(notADir),
  );
});

test('a file that is not a database gives a clear error', async () => {
  const bogus = join(dir, 'not-a-db.sqlite');
  writeFileSync(bogus, 'this is not an SQLite database, just text that is long enough to have a header'.repeat(20));
  await assert.rejects(
    openStore(config({ url: `sqlite:${bogus}`, auto_migrate: true })),
    (e: unknown) => e instanceof DatabaseUrlError && e.message.includes(bogus) && /not a database/.test(e.message),
  );
});
