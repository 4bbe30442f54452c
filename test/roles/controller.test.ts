// The controller role end to end through the real CLI: API on a port, engine behind it, SQLite on disk.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startCli, waitFor } from '../support/cli.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('controller serves the API and the engine drives an accepted notification to a final status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-ctl-'));
  const port = await freePort();
  const child = startCli(['--role=controller', '--listen', `127.0.0.1:${port}`, '--database', `sqlite:${join(dir, 'm.sqlite')}`], {
    MASAKARI_DATABASE__AUTO_MIGRATE: 'true',
  });
  after(() => {
    child.kill('SIGKILL');
  });
  const base = `http://127.0.0.1:${port}/v1`;
  await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/`)).ok ? true : undefined), 60_000, `controller on ${port}\n${child.output()}`);
  const post = async (path: string, body: unknown) => {
    const r = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, Record<string, unknown>> };
  };
  const seg = await post('/segments', { segment: { name: 'seg', recovery_method: 'auto', service_type: 'COMPUTE' } });
  assert.equal(seg.status, 201);
  const host = await post(`/segments/${String(seg.body.segment!.uuid)}/hosts`, { host: { name: 'cmp1', type: 'COMPUTE', control_attributes: 'x' } });
  assert.equal(host.status, 201);
  const n = await post('/notifications', {
    notification: {
      type: 'VM',
      hostname: 'cmp1',
      generated_time: new Date().toISOString(),
      payload: { event: 'LIFECYCLE', instance_uuid: '6f1b1e3a-6c1f-4b7e-9d7e-0f6c2b9a1d11', vir_domain_event: 'STOPPED_FAILED' },
    },
  });
  assert.equal(n.status, 202);
  assert.equal(n.body.notification!.status, 'new');
  // No compute driver is configured: the engine must still take the notification and end it with a reason.
  const final = await waitFor(
    async () => {
      const r = await fetch(`${base}/notifications/${String(n.body.notification!.notification_uuid)}`);
      const s = ((await r.json()) as { notification: { status: string } }).notification.status;
      return s === 'error' || s === 'failed' ? s : undefined;
    },
    30_000,
    'the notification to reach error',
  );
  assert.equal(final, 'error');
  // The reason is logged (asynchronously: pino writes after the status is stored, so wait for the line).
  await waitFor(async () => (/no compute driver is configured/.test(child.output()) ? true : undefined), 10_000, 'the reason in the log');
});
