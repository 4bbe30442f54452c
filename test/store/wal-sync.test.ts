// The WAL is synced off the event loop (src/core/store/sqlite/wal-sync.ts), and nothing is acknowledged before that
// sync: checked on the real system calls (strace), on the group committer's contract, and on the syncer's failures.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConnection } from '../../src/core/store/sqlite/connection.ts';
import { groupCommitter } from '../../src/core/store/sqlite/group-commit.ts';
import { walSyncer } from '../../src/core/store/sqlite/wal-sync.ts';
import { haveCommand, requireComponent } from '../support/components.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-walsync-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface SyncCall {
  start: number;
  end: number;
}

/** Parses `strace -f -y` output: WAL writes, completed syncs of the WAL, and the line where `marker` went to stdout. */
function analyse(trace: string[], marker: string) {
  const walWrites: number[] = [];
  const syncs: SyncCall[] = [];
  const unfinished = new Map<string, number>();
  let printed = -1;
  trace.forEach((line, i) => {
    const pid = line.split(/\s+/, 1)[0]!;
    if (/\b(pwrite64|write|pwritev|writev)\(\d+<[^>]*-wal>/.test(line)) walWrites.push(i);
    const sync = /\b(fdatasync|fsync)\(\d+<[^>]*-wal>/.test(line);
    if (sync && line.includes('<unfinished ...>')) unfinished.set(pid, i);
    else if (sync && / = 0$/.test(line)) syncs.push({ start: i, end: i });
    else if (/<\.\.\. (fdatasync|fsync) resumed>.* = 0$/.test(line) && unfinished.has(pid)) {
      syncs.push({ start: unfinished.get(pid)!, end: i });
      unfinished.delete(pid);
    }
    if (printed < 0 && /\bwrite\(1</.test(line) && line.includes(marker.slice(0, 8))) printed = i;
  });
  return { walWrites, syncs, printed };
}

test('a created notification is reported only after an fdatasync of the WAL that began after its last WAL write', { timeout: 90_000 }, async (t) => {
  if (!requireComponent(t, 'strace', haveCommand('strace'))) return;
  const db = join(dir, 'traced.sqlite');
  const traceFile = join(dir, 'trace.txt');
  const child = spawn(
    'strace',
    [
      '-f',
      '-y',
      '-e',
      'trace=write,pwrite64,writev,pwritev,fdatasync,fsync',
      '-o',
      traceFile,
      process.execPath,
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'create-and-hang.ts'),
      db,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    const uuid = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no uuid in time; stderr: ${stderr}`)), 60_000);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0]!.trim());
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`traced child exited early (${code}): ${stderr}`));
      });
    });
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    const trace = readFileSync(traceFile, 'utf8').split('\n');
    // strace 6.1 leaves its tracee running when it is killed: kill the traced node first (its pid is on every line).
    const tracee = Number(trace.find((l) => /\bwrite\(1</.test(l) && l.includes(uuid.slice(0, 8)))?.split(/\s+/, 1)[0]);
    if (tracee > 0) process.kill(tracee, 'SIGKILL');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const { walWrites, syncs, printed } = analyse(trace, uuid);
    assert.ok(printed > 0, 'the uuid was written to stdout in the trace');
    const lastWrite = Math.max(...walWrites.filter((i) => i < printed));
    assert.ok(Number.isFinite(lastWrite), 'the notification was written to the WAL before it was reported');
    const covering = syncs.filter((s) => s.start > lastWrite && s.end < printed);
    assert.ok(covering.length > 0, `a sync of the WAL started after line ${lastWrite} and completed before line ${printed}; syncs: ${JSON.stringify(syncs)}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('group commit resumes no caller before the batch is durable, and rejects them all when making it durable fails', async () => {
  const conn = openConnection(join(dir, 'durable-hook.sqlite'), 1000);
  try {
    conn.db.exec('CREATE TABLE t (v INTEGER)');
    let release!: () => void;
    let fail!: (e: Error) => void;
    let calls = 0;
    const gc = groupCommitter(
      conn,
      setImmediate,
      () => {},
      () => {
        calls++;
        return new Promise<void>((res, rej) => {
          release = res;
          fail = rej;
        });
      },
    );
    let settled = 0;
    const a = gc.run(() => conn.db.prepare('INSERT INTO t VALUES (1)').run().changes).then((v) => (settled++, v));
    const b = gc.run(() => conn.db.prepare('INSERT INTO t VALUES (2)').run().changes).then((v) => (settled++, v));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls, 1, 'one durability wait for the batch');
    assert.equal(settled, 0, 'committed but not yet durable: nobody is told');
    assert.equal((conn.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 2, 'the batch did commit');
    release();
    assert.deepEqual(await Promise.all([a, b]), [1, 1]);

    const c = gc.run(() => conn.db.prepare('INSERT INTO t VALUES (3)').run().changes);
    const d = gc.run(() => conn.db.prepare('INSERT INTO t VALUES (4)').run().changes);
    await new Promise((r) => setTimeout(r, 50));
    fail(new Error('EIO'));
    await assert.rejects(c, /EIO/);
    await assert.rejects(d, /EIO/);
  } finally {
    conn.close();
  }
});

test('a failed WAL sync is final: every later sync is refused too (no acknowledgment after a lost write-back)', async () => {
  const db = join(dir, 'gone.sqlite');
  writeFileSync(`${db}-wal`, 'x');
  const syncer = walSyncer(db);
  try {
    await syncer.sync();
    unlinkSync(`${db}-wal`); // the syncer cannot reach the WAL any more
    await assert.rejects(syncer.sync(), (e: Error) => e.name === 'WalSyncError' && /ENOENT/.test(e.message));
    writeFileSync(`${db}-wal`, 'x'); // even once the file is back
    await assert.rejects(syncer.sync(), (e: Error) => e.name === 'WalSyncError');
  } finally {
    syncer.close();
  }
});

test('closing the store syncs on the spot and resolves what was still waiting for a sync', async () => {
  const db = join(dir, 'closing.sqlite');
  writeFileSync(`${db}-wal`, 'x');
  const syncer = walSyncer(db);
  const waiting = [syncer.sync(), syncer.sync(), syncer.sync()];
  syncer.close();
  await Promise.all(waiting);
  await assert.rejects(syncer.sync(), /closed/);
});
