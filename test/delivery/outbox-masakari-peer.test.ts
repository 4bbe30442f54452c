// Wire compatibility with OpenStack: the outbox delivering to the real masakari-api 14.0.2 (see test/labs/masakari-peer/).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realEnv } from '../../src/core/env.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Outbox } from '../../src/core/delivery/outbox.ts';
import { HttpTransport } from '../../src/drivers/delivery/http-transport.ts';
import { FixedToken } from '../../src/drivers/delivery/auth.ts';
import { monitorTimestamp, type NotificationDraft } from '../../src/core/ports/notify.ts';
import { requireComponent } from '../support/components.ts';
import { waitFor } from './helpers.ts';
import { masakariApiAvailable, startMasakariPeer, type MasakariPeer } from '../labs/masakari-peer/lab.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-peer-'));
let peer: MasakariPeer | null = null;
let outbox: Outbox | null = null;
after(async () => {
  await outbox?.stop(0);
  await peer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the real masakari-api accepts our notifications (202), answers a resend with 409, an unknown host with 400', { timeout: 300_000 }, async (t) => {
  if (!requireComponent(t, 'OpenStack masakari-api (Debian package python3-masakari)', await masakariApiAvailable())) return;
  peer = await startMasakariPeer(dir);
  peer.addHost('compute-1');
  peer.addHost('node3');

  outbox = new Outbox({
    path: join(dir, 'outbox.sqlite'),
    transport: new HttpTransport({ endpoint: peer.endpoint, auth: new FixedToken('notused'), timeoutMs: 10_000 }),
    env: realEnv,
    log: silentLogger,
    backoff: { initialMs: 50, maxMs: 500 },
  });
  outbox.start();
  const processDown: NotificationDraft = {
    type: 'PROCESS',
    hostname: 'compute-1',
    generated_time: monitorTimestamp(new Date()),
    payload: { event: 'STOPPED', process_name: 'nova-compute' },
  };
  const hostDown: NotificationDraft = {
    type: 'COMPUTE_HOST',
    hostname: 'node3',
    generated_time: monitorTimestamp(new Date()),
    payload: { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' },
  };
  await outbox.submit(processDown);
  await outbox.submit(hostDown);
  await waitFor('both delivered', () => outbox!.status().sent === 2, 60_000);
  await outbox.submit(processDown); // resent: duplicate
  await outbox.submit({ ...hostDown, hostname: 'no-such-host' });
  await waitFor('all answered', () => outbox!.status().pending === 0, 60_000);

  const s = outbox.status();
  assert.equal(s.sent, 3);
  assert.equal(s.rejected, 1);
  assert.equal(s.rejectedDrafts[0]?.reason, '400: Host with name no-such-host could not be found.');

  const res = await fetch(`${peer.endpoint}/notifications`);
  const body = (await res.json()) as { notifications: { type: string; payload: Record<string, string>; generated_time: string; status: string }[] };
  assert.equal(res.status, 200);
  const stored = [...body.notifications].sort((a, b) => a.type.localeCompare(b.type)).map((n) => [n.type, n.payload, n.generated_time]);
  assert.deepEqual(stored, [
    ['COMPUTE_HOST', hostDown.payload, hostDown.generated_time],
    ['PROCESS', processDown.payload, processDown.generated_time],
  ]);
});
