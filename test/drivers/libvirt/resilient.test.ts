// ResilientLibvirt's behaviour without a daemon: start() never throws, failures are logged and retried, stop() ends
// the retries. (Reconnection after real libvirtd restarts is covered by test/monitors/instance-e2e.test.ts.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { requireComponent } from '../../support/components.ts';
import { libvirtAvailable } from '../../../src/drivers/libvirt/index.ts';
import { ResilientLibvirt } from '../../../src/drivers/libvirt/resilient.ts';

test('an unreachable libvirt is retried with its error logged; stop() ends the retries', async (t) => {
  if (!requireComponent(t, 'libvirt client library (Debian libvirt0)', libvirtAvailable())) return;
  const lines: Array<{ msg: string; err?: string; attempt?: number }> = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const r = new ResilientLibvirt({ uri: 'test+unix:///default?socket=/nonexistent/libvirt-sock', reconnectDelayMs: 20, log });
  await r.start();
  assert.equal(r.connection, null);
  const end = Date.now() + 10_000;
  while (lines.filter((l) => l.msg === 'cannot connect to libvirt; retrying').length < 3 && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
  await r.stop();
  const failures = lines.filter((l) => l.msg === 'cannot connect to libvirt; retrying');
  assert.ok(failures.length >= 3, `retried: ${failures.length}`);
  assert.match(failures[0]!.err ?? '', /nonexistent/, "libvirt's own reason is in the log");
  assert.deepEqual(
    failures.slice(0, 3).map((l) => l.attempt),
    [1, 2, 3],
  );
  const after = lines.length;
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(lines.length, after, 'no attempt after stop()');
});

test('test:///default connects at once and subscriptions are delivered', async (t) => {
  if (!requireComponent(t, 'libvirt client library (Debian libvirt0)', libvirtAvailable())) return;
  const r = new ResilientLibvirt({ uri: 'test:///default', reconnectDelayMs: 20, log: pino({ level: 'silent' }) });
  const seen: string[] = [];
  const sub = r.subscribe('lifecycle', (ev) => seen.push(ev.domain.name));
  await r.start();
  assert.equal(r.connects, 1);
  const c = r.connection!;
  assert.equal(c.subscriptionCount, 1);
  const d = c.defineXML(`<domain type='test'><name>resilient-x</name><memory>65536</memory><os><type>hvm</type></os></domain>`);
  d.undefine();
  d.free();
  const end = Date.now() + 5000;
  while (seen.length < 2 && Date.now() < end) await new Promise((res) => setTimeout(res, 5));
  assert.deepEqual(seen, ['resilient-x', 'resilient-x']);
  sub.cancel();
  assert.equal(c.subscriptionCount, 0);
  await r.stop();
  assert.equal(r.connection, null);
});
