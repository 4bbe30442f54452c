// The outbox against a real HTTP server of the test's own: retries until 2xx, stops at 409, parks 400, survives
// restarts, waits out a controller that is down, keeps order per host.

import { test, after } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realEnv } from '../../src/core/env.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Outbox, OutboxClosedError } from '../../src/core/delivery/outbox.ts';
import { OutboxStore } from '../../src/core/delivery/outbox-store.ts';
import { HttpTransport } from '../../src/drivers/delivery/http-transport.ts';
import { FixedToken } from '../../src/drivers/delivery/auth.ts';
import type { NotificationDraft } from '../../src/core/ports/notify.ts';
import { FakeController, freePort, notificationOf, waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-outbox-'));
const controllers: FakeController[] = [];
const outboxes: Outbox[] = [];
after(async () => {
  for (const o of outboxes) await o.stop(0).catch(() => undefined);
  for (const c of controllers) await c.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const newPath = () => join(dir, `outbox-${++n}.sqlite`);

const draft = (hostname: string, process_name = 'nova-compute'): NotificationDraft => ({
  type: 'PROCESS',
  hostname,
  generated_time: '2026-11-22T02:19:03.547427',
  payload: { event: 'STOPPED', process_name },
});

async function controller(answer: ConstructorParameters<typeof FakeController>[0], port = 0) {
  const c = await new FakeController(answer).listen(port);
  controllers.push(c);
  return c;
}

function outbox(path: string, endpoint: string, token = 'notused') {
  const o = new Outbox({
    path,
    transport: new HttpTransport({ endpoint, auth: new FixedToken(token), timeoutMs: 2000 }),
    env: realEnv,
    log: silentLogger,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  outboxes.push(o);
  return o;
}

test('503 for a while, then 202: delivered once, in masakari-monitors wire format', async () => {
  const c = await controller((_r, i) => (i < 3 ? { status: 503, body: { masakariFault: { code: 503, message: 'busy' } } } : { status: 202, body: {} }));
  const o = outbox(newPath(), c.endpoint, 'tok-123');
  o.start();
  await o.submit(draft('compute-1'));
  await waitFor('delivery', () => o.status().sent === 1);
  assert.equal(c.received.length, 4);
  for (const r of c.received) {
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/v1/notifications');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-auth-token'], 'tok-123');
    assert.equal(r.headers['openstack-api-version'], undefined, 'no microversion header, like masakari-monitors');
    assert.deepEqual(r.json, {
      notification: {
        type: 'PROCESS',
        hostname: 'compute-1',
        generated_time: '2026-11-22T02:19:03.547427',
        payload: { event: 'STOPPED', process_name: 'nova-compute' },
      },
    });
  }
  assert.deepEqual({ pending: o.status().pending, rejected: o.status().rejected }, { pending: 0, rejected: 0 });
});

test('409 (duplicate or host on maintenance) is final: not resent', async () => {
  const c = await controller(() => ({
    status: 409,
    body: { conflictingRequest: { code: 409, message: 'Notification received from host compute-2 of type PROCESS is duplicate.' } },
  }));
  const o = outbox(newPath(), c.endpoint);
  o.start();
  await o.submit(draft('compute-2'));
  await waitFor('409 recorded', () => o.status().sent === 1);
  // Give a wrongly-retrying sender room to send again: another draft goes through after it.
  await o.submit(draft('compute-2', 'other'));
  await waitFor('second 409', () => o.status().sent === 2);
  assert.equal(c.received.length, 2);
  assert.equal(o.status().pending, 0);
});

test('400 parks the draft as rejected with the reason, and later drafts of the host still go', async () => {
  const c = await controller((r) =>
    (notificationOf(r).payload as Record<string, string>).process_name === 'bad'
      ? { status: 400, body: { badRequest: { code: 400, message: 'Host with name compute-3 could not be found.' } } }
      : { status: 202, body: {} },
  );
  const o = outbox(newPath(), c.endpoint);
  await o.submit(draft('compute-3', 'bad'));
  await o.submit(draft('compute-3', 'good'));
  o.start();
  await waitFor('both answered', () => o.status().pending === 0);
  const s = o.status();
  assert.equal(s.rejected, 1);
  assert.equal(s.sent, 1);
  assert.equal(s.rejectedDrafts[0]?.draft.payload.process_name, 'bad');
  assert.equal(s.rejectedDrafts[0]?.reason, '400: Host with name compute-3 could not be found.');
  assert.deepEqual(
    c.received.map((r) => (notificationOf(r).payload as Record<string, string>).process_name),
    ['bad', 'good'],
  );
});

test('submit() resolves only once the draft is on disk; a stopped outbox refuses drafts', async () => {
  const port = await freePort();
  const path = newPath();
  const o = outbox(path, `http://127.0.0.1:${port}/v1`);
  await o.submit(draft('compute-4'));
  const reader = new OutboxStore(path, { readonly: true });
  try {
    assert.equal(reader.counts().pending, 1);
    assert.equal(reader.list('pending')[0]?.draft.hostname, 'compute-4');
  } finally {
    reader.close();
  }
  await o.stop();
  await assert.rejects(o.submit(draft('compute-4')), OutboxClosedError);
});

test('pending drafts survive a restart of the outbox and are delivered in order afterwards', async () => {
  const path = newPath();
  const down = await freePort();
  const first = outbox(path, `http://127.0.0.1:${down}/v1`);
  first.start();
  for (const p of ['a', 'b', 'c']) await first.submit(draft('compute-5', p));
  await waitFor('some failed attempts', () => (first.status().pendingDrafts[0]?.attempts ?? 0) >= 2);
  assert.match(first.status().pendingDrafts[0]?.lastError ?? '', /ECONNREFUSED/);
  await first.stop();

  const c = await controller(() => ({ status: 202, body: {} }));
  const second = outbox(path, c.endpoint);
  assert.equal(second.status().pending, 3);
  second.start();
  await waitFor('all delivered', () => second.status().sent === 3);
  assert.deepEqual(
    c.received.map((r) => (notificationOf(r).payload as Record<string, string>).process_name),
    ['a', 'b', 'c'],
  );
});

test('a controller that is down (connection refused) and then comes up gets the notification', async () => {
  const port = await freePort();
  const o = outbox(newPath(), `http://127.0.0.1:${port}/v1`);
  o.start();
  await o.submit(draft('compute-6'));
  await waitFor('retrying against a closed port', () => (o.status().pendingDrafts[0]?.attempts ?? 0) >= 3);
  const c = await controller(() => ({ status: 202, body: {} }), port);
  await waitFor('delivered once the controller is up', () => o.status().sent === 1);
  assert.equal(c.received.length, 1);
});

test('order is kept per host, and one host backing off does not hold up another', async () => {
  let failedOnce = false;
  const c = await controller((r) => {
    const p = (notificationOf(r).payload as Record<string, string>).process_name;
    if (p === 'A1' && !failedOnce) {
      failedOnce = true;
      return { status: 500, body: {} };
    }
    return { status: 202, body: {} };
  });
  const o = new Outbox({
    path: newPath(),
    transport: new HttpTransport({ endpoint: c.endpoint, auth: new FixedToken('x'), timeoutMs: 2000 }),
    env: realEnv,
    log: silentLogger,
    // A long enough first backoff that B1 surely goes while A1 waits.
    backoff: { initialMs: 300, maxMs: 300 },
  });
  outboxes.push(o);
  await o.submit(draft('host-A', 'A1'));
  await o.submit(draft('host-A', 'A2'));
  await o.submit(draft('host-B', 'B1'));
  o.start();
  await waitFor('all delivered', () => o.status().sent === 3);
  assert.deepEqual(
    c.received.map((r) => (notificationOf(r).payload as Record<string, string>).process_name),
    ['A1', 'B1', 'A1', 'A2'],
  );
});

test('stop() does not wait forever for a controller that never answers; the draft stays pending', async () => {
  const c = await controller(() => 'hang');
  const path = newPath();
  const o = outbox(path, c.endpoint);
  o.start();
  await o.submit(draft('compute-7'));
  await waitFor('request in flight', () => c.received.length === 1);
  await o.stop(50);
  const reader = new OutboxStore(path, { readonly: true });
  try {
    assert.equal(reader.counts().pending, 1);
  } finally {
    reader.close();
  }
});

test('a notification accepted by submit() survives a SIGKILL of the agent', async () => {
  const path = newPath();
  const down = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/submit-then-hang.ts'), path, `http://127.0.0.1:${down}/v1`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor('child queued its notification', () => out.includes('submitted'), 60_000);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const c = await controller(() => ({ status: 202, body: {} }));
  const o = outbox(path, c.endpoint);
  o.start();
  await waitFor('delivered after the crash', () => o.status().sent === 1);
  assert.equal(notificationOf(c.received[0]!).hostname, 'compute-crash');
});

test('rejected drafts queued again from another connection (the CLI) are sent by the running outbox', async () => {
  let hostKnown = false;
  const c = await controller(() =>
    hostKnown ? { status: 202, body: {} } : { status: 400, body: { badRequest: { code: 400, message: 'Host with name compute-8 could not be found.' } } },
  );
  const path = newPath();
  const o = new Outbox({
    path,
    transport: new HttpTransport({ endpoint: c.endpoint, auth: new FixedToken('x'), timeoutMs: 2000 }),
    env: realEnv,
    log: silentLogger,
    backoff: { initialMs: 20, maxMs: 100 },
    maxIdleMs: 50,
  });
  outboxes.push(o);
  o.start();
  await o.submit(draft('compute-8'));
  await waitFor('rejected', () => o.status().rejected === 1);
  hostKnown = true; // the operator registers the host...
  const cli = new OutboxStore(path);
  try {
    assert.equal(cli.requeueRejected(Date.now()), 1); // ...and runs `masakari monitors outbox --retry-rejected`
  } finally {
    cli.close();
  }
  await waitFor('delivered', () => o.status().sent === 1);
  assert.equal(o.status().rejected, 0);
  assert.equal(c.received.length, 2);
});
