// `masakari db sync | version | purge`, run as a real process against a temp database.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { migrations } from '../../src/core/store/sqlite/migrations/index.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'masakari-dbcli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function masakari(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src', 'main.ts'), ...args],
      { cwd: root, timeout: 60_000, env: { ...process.env, MASAKARI_CONFIG: '' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at /, 'no stack trace');

test('db version, sync, sync again, version', { timeout: 240_000 }, async () => {
  const db = `sqlite:${join(dir, 'a.sqlite')}`;
  const v0 = await masakari(['db', 'version', '--database', db]);
  assert.equal(v0.code, 0, v0.stderr);
  assert.equal(v0.stdout, '0\n');
  assert.match(v0.stderr, /masakari db sync/);

  const s1 = await masakari(['db', 'sync', '--database', db]);
  assert.equal(s1.code, 0, s1.stderr);
  assert.equal(s1.stdout, [...migrations.map((m) => `applied ${m.name}`), `database schema is now at version ${migrations.length}`, ''].join('\n'));

  const s2 = await masakari(['db', 'sync', '--database', db]);
  assert.equal(s2.code, 0, s2.stderr);
  assert.equal(s2.stdout, `database schema is up to date (version ${migrations.length})\n`);

  const v1 = await masakari(['db', 'version', '--database', db]);
  assert.equal(v1.stdout, `${migrations.length}\n`);
  assert.equal(v1.stderr, '');
});

test('db purge removes old finished notifications and keeps the rest', { timeout: 240_000 }, async () => {
  const path = join(dir, 'purge.sqlite');
  const DAY = 86_400_000;
  const now = Date.now();
  const store = openSqliteStore({ path });
  let oldUuid: string, recentUuid: string;
  try {
    const seg = await store.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date(now));
    const host = await store.createHost(
      seg.uuid,
      { name: 'n1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false },
      new Date(now),
    );
    const mk = async (ageDays: number) => {
      const t = new Date(now - ageDays * DAY);
      const r = await store.createNotification(
        { uuid: randomUUID(), type: 'VM', generatedTime: t, sourceHostUuid: host.uuid, payload: { n: String(ageDays) } },
        0,
        t,
      );
      assert.ok(r.created);
      await store.setNotificationStatus(r.notification.uuid, 'finished', t);
      return r.notification.uuid;
    };
    oldUuid = await mk(40);
    recentUuid = await mk(5);
  } finally {
    await store.close();
  }

  // Independent runs in parallel: each start of the CLI through tsx takes seconds on a busy machine.
  const [bad, badRows] = await Promise.all([
    masakari(['db', 'purge', '--age-days', '0', '--database', `sqlite:${path}`]),
    masakari(['db', 'purge', '--age-days', '3', '--max-rows', '0', '--database', `sqlite:${path}`]),
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--age-days must be a whole number of days greater than 0/);
  noStack(bad.stderr);

  assert.equal(badRows.code, 2);
  assert.match(badRows.stderr, /--max-rows/);

  const r = await masakari(['db', 'purge', '--age-days', '30', '--database', `sqlite:${path}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^notifications: 1 rows purged$/m);

  const after = openSqliteStore({ path, migrate: false });
  try {
    assert.equal(await after.getNotification(oldUuid), undefined);
    assert.ok(await after.getNotification(recentUuid));
  } finally {
    await after.close();
  }
});

test('clear errors: unmigrated database, unreachable MySQL server', { timeout: 240_000 }, async () => {
  const [fresh, mysql] = await Promise.all([
    masakari(['db', 'purge', '--age-days', '3', '--database', `sqlite:${join(dir, 'fresh.sqlite')}`]),
    masakari(['db', 'version', '--database', 'mysql://u:p@127.0.0.1:1/masakari']), // nothing listens on port 1
  ]);
  assert.equal(fresh.code, 1);
  assert.match(fresh.stderr, /run `masakari db sync` first/);
  noStack(fresh.stderr);

  assert.equal(mysql.code, 2);
  assert.match(mysql.stderr, /cannot connect to MySQL\/MariaDB at 127\.0\.0\.1:1\/masakari/);
  noStack(mysql.stderr);
});
