// `masakari monitors host --once` and `masakari monitors outbox` as an operator runs them.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crmMonFile } from '../drivers/cluster/pacemaker/reference.ts';
import { OutboxStore } from '../../src/core/delivery/outbox-store.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'masakari-monitors-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function masakari(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src/main.ts'), ...args],
      { cwd: repoRoot, timeout: 60_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

test('monitors host --once on one crm_mon output: each node and the notification it would get', async () => {
  const r = await masakari(['monitors', 'host', '--once', '--crm-mon-xml', crmMonFile('02-node3-unclean-fence-pending.xml'), '--local-node', 'node1']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { quorate: boolean; nodes: { name: string; condition: string; fencing: string; notification: unknown }[] };
  assert.equal(out.quorate, true);
  const node3 = out.nodes.find((n) => n.name === 'node3');
  assert.deepEqual(
    { ...node3, reason: undefined },
    { name: 'node3', type: 'member', condition: 'unclean', stable: 'unclean', fencing: 'pending', notification: null, reason: undefined },
  );
  assert.equal(
    out.nodes.some((n) => n.name === 'node1'),
    false,
    'the local node is not listed',
  );
});

test('monitors host --once with several files replays them as polls', async () => {
  const r = await masakari([
    'monitors',
    'host',
    '--once',
    '--local-node',
    'node1',
    '--crm-mon-xml',
    crmMonFile('01-all-online.xml'),
    crmMonFile('02-node3-unclean-fence-pending.xml'),
    crmMonFile('03-node3-offline-after-fencing.xml'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { steps: { nodes: { name: string; notification: { payload: unknown } | null }[] }[] };
  const sent = out.steps.map((s) => s.nodes.filter((n) => n.notification).map((n) => [n.name, n.notification!.payload]));
  assert.deepEqual(sent, [[], [], [['node3', { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' }]]]);
});

test('monitors host --once: bad input is one clear line, no stack trace', async () => {
  const missing = await masakari(['monitors', 'host', '--once', '--crm-mon-xml', join(dir, 'missing.xml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^masakari: cannot read crm_mon XML file .*missing\.xml/m);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  const noOnce = await masakari(['monitors', 'host']);
  assert.equal(noOnce.code, 2);
  assert.match(noOnce.stderr, /only supports --once/);
});

test('monitors outbox prints pending and rejected notifications of the outbox file', async () => {
  const data = join(dir, 'data');
  const none = await masakari(['monitors', 'outbox'], { MASAKARI_DATA_DIR: data });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no outbox at/);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(data, { recursive: true });
  const store = new OutboxStore(join(data, 'outbox.sqlite'));
  const draft = { type: 'PROCESS' as const, hostname: 'c1', generated_time: '2026-11-22T02:19:03.547427', payload: { event: 'STOPPED', process_name: 'x' } };
  store.add(draft, 1);
  const id = store.add({ ...draft, hostname: 'c2' }, 2);
  store.markRejected(id, '400: Host with name c2 could not be found.', 3);
  store.close();
  const r = await masakari(['monitors', 'outbox'], { MASAKARI_DATA_DIR: data });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { pending: number; rejected: number; rejectedDrafts: { reason: string }[] };
  assert.equal(out.pending, 1);
  assert.equal(out.rejected, 1);
  assert.equal(out.rejectedDrafts[0]?.reason, '400: Host with name c2 could not be found.');

  const again = await masakari(['monitors', 'outbox', '--retry-rejected'], { MASAKARI_DATA_DIR: data });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /1 rejected notification\(s\) queued again/);
  const requeued = JSON.parse(again.stdout) as { pending: number; rejected: number };
  assert.deepEqual([requeued.pending, requeued.rejected], [2, 0]);
});
