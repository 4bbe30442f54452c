// How a role ends when it cannot run (issue 16, item 11): a clear message and a non-zero exit code, never exit 0.
// And `--check-config`, which scripts/lab.sh runs before it starts anything.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { requireComponent } from '../support/components.ts';
import { libvirtAvailable } from '../../src/drivers/libvirt/index.ts';

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

test('the API port taken (--role=all, as a second lab): exit 1 naming the address, the likely cause and the key that changes it', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;
  const { port, server } = await occupiedPort();
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'masakari-serve-'));
  const env = { MASAKARI_DATA_DIR: dir, MASAKARI_LIBVIRT__CONNECTION_URI: 'test:///default' };
  const r = await runCli(['--role=all', '--listen', `127.0.0.1:${port}`], { env, timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use \\(another masakari, or another lab, is running there\\?\\)`),
  );
  assert.match(r.stderr, /MASAKARI_API__LISTEN/);
});

test('--check-config: exit 0 for a valid configuration, 2 naming the bad key, without starting anything', async () => {
  const ok = await runCli(['--role=all', '--check-config'], { env: { MASAKARI_DATA_DIR: '/nonexistent/masakari-check' } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /masakari --role=all: configuration OK/);
  const bad = await runCli(['--role=all', '--check-config'], { env: { MASAKARI_API__AUTH_STRATEGY: 'none-at-all' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /api\.auth_strategy/);
});

test('--help points to the documentation', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /docs\/lab\.md/);
});
