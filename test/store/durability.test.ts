// Invariant 1: a notification the store reported as created is on disk, even if the process dies right after.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-durable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a created notification survives SIGKILL of the process right after', { timeout: 60_000 }, async () => {
  const path = join(dir, 'store.sqlite');
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'create-and-hang.ts'), path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    const uuid = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`child printed nothing in time; stderr: ${stderr}`)), 45_000);
      child.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n')[0]!;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(line.trim());
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`child exited early (${code}): ${stderr}`));
      });
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.match(uuid, /^[0-9a-f-]{36}$/);

    const store = openSqliteStore({ path, migrate: false });
    try {
      const n = await store.getNotification(uuid);
      assert.ok(n, 'the notification is in the database after the crash');
      assert.equal(n.status, 'new');
      assert.deepEqual(n.payload, { event: 'STOPPED' });
    } finally {
      await store.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
