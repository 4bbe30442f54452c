// Smoke test of bench/api (the API benchmark against Masakari 14.0.2; the benchmark itself is not part of npm test):
// the runner parses, and the wrk script sends unique, valid notifications and records exactly the 202s it got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { repoRoot } from '../support/cli.ts';
import { haveCommand, requireComponent } from '../support/components.ts';

test('bench/api/run.sh is valid bash', () => {
  execFileSync('bash', ['-n', path.join(repoRoot, 'bench/api/run.sh')]);
});

test('post_notification.lua: unique VM payloads on the seeded hosts; every 202 recorded once', async (t) => {
  if (!requireComponent(t, 'wrk', haveCommand('wrk'))) return;
  const instances = new Set<string>();
  const answered = new Set<string>();
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const b = JSON.parse(body).notification;
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/v1/notifications');
      assert.equal(b.type, 'VM');
      assert.match(b.hostname, /^bench-host-(0[1-9]|10)$/);
      assert.match(b.payload.instance_uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4000-8000-[0-9a-f]{12}$/);
      assert.ok(!instances.has(b.payload.instance_uuid), 'duplicate instance_uuid');
      instances.add(b.payload.instance_uuid);
      // Every 5th request is refused: only 202s may be recorded.
      if (++n % 5 === 0) return void res.writeHead(409, { 'Content-Type': 'application/json' }).end('{}');
      const uuid = randomUUID();
      answered.add(uuid);
      res.writeHead(202, { 'Content-Type': 'application/json' }).end(JSON.stringify({ notification: { notification_uuid: uuid, status: 'new' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(path.join(tmpdir(), 'masakari-apibench-test-'));
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        'wrk',
        ['-t2', '-c4', '-d1s', '-s', path.join(repoRoot, 'bench/api/post_notification.lua'), `http://127.0.0.1:${port}/v1/notifications`],
        {
          env: { ...process.env, UUID_DIR: dir, RUN_TAG: '0badc0de', NHOSTS: '10' },
        },
      );
      let s = '';
      child.stdout.on('data', (d) => (s += d));
      child.stderr.on('data', (d) => (s += d));
      child.on('error', reject);
      child.on('close', () => resolve(s));
    });
    const status = (code: number) => Number(new RegExp(`^STATUS ${code} (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
    const recorded = readdirSync(dir).flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));
    assert.ok(status(202) > 10, out);
    assert.ok(status(409) > 0, out);
    assert.equal(recorded.length, status(202));
    assert.equal(new Set(recorded).size, recorded.length);
    for (const u of recorded) assert.ok(answered.has(u), `recorded ${u} was never answered with 202`);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
