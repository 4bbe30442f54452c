// The instance monitor: masakari-instancemonitor's event filter, and the monitor on real libvirt (test:///default)
// with an in-memory sink standing in for the outbox.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { NotificationDraft, NotificationSink } from '../../src/core/ports/notify.ts';
import { vmEventNames } from '../../src/core/monitors/instance/event-filter.ts';
import { InstanceMonitor } from '../../src/core/monitors/instance/instance-monitor.ts';
import type { DomainEvent } from '../../src/core/monitors/instance/source.ts';
import { LibvirtConnection, libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import { LibvirtDomainEventSource } from '../../src/drivers/libvirt/event-source.ts';

const dom = { uuid: '11111111-2222-3333-4444-555555555555', name: 'vm' };
const lc = (event: number, detail: number): DomainEvent => ({ kind: 'lifecycle', domain: dom, event, detail });

/** Collects drafts; the test double for the durable outbox (libvirt itself stays real). */
class MemorySink implements NotificationSink {
  readonly drafts: NotificationDraft[] = [];
  async submit(d: NotificationDraft): Promise<void> {
    this.drafts.push(d);
  }
}

describe('event filter (masakari-instancemonitor eventfilter_table)', () => {
  test('lifecycle events masakari reports, with its names', () => {
    const cases: Array<[number, number, string]> = [
      [3, 2, 'SUSPENDED_IOERROR'],
      [3, 3, 'SUSPENDED_WATCHDOG'],
      [3, 6, 'SUSPENDED_API_ERROR'],
      [5, 0, 'STOPPED_SHUTDOWN'],
      [5, 1, 'STOPPED_DESTROYED'],
      [5, 5, 'STOPPED_FAILED'],
      [6, 0, 'SHUTDOWN_FINISHED'],
    ];
    for (const [event, detail, name] of cases) {
      assert.deepEqual(vmEventNames(lc(event, detail)), { event: 'LIFECYCLE', vir_domain_event: name }, `${event}/${detail}`);
    }
  });

  test('lifecycle events masakari does not report', () => {
    // DEFINED, UNDEFINED, STARTED, RESUMED, PMSUSPENDED, CRASHED; SUSPENDED/PAUSED; STOPPED/CRASHED|MIGRATED|SAVED|FROM_SNAPSHOT; SHUTDOWN/GUEST
    const ignored: Array<[number, number]> = [
      [0, 0],
      [1, 0],
      [2, 0],
      [2, 1],
      [4, 0],
      [7, 0],
      [8, 0],
      [3, 0],
      [3, 1],
      [5, 2],
      [5, 3],
      [5, 4],
      [5, 6],
      [6, 1],
      [6, 2],
    ];
    for (const [e, d] of ignored) assert.equal(vmEventNames(lc(e, d)), null, `${e}/${d}`);
  });

  test('the other five event kinds', () => {
    assert.deepEqual(vmEventNames({ kind: 'reboot', domain: dom }), { event: 'REBOOT', vir_domain_event: 'UNKNOWN' });
    assert.deepEqual(vmEventNames({ kind: 'control-error', domain: dom }), { event: 'CONTROL_ERROR', vir_domain_event: 'UNKNOWN' });
    assert.deepEqual(vmEventNames({ kind: 'io-error-reason', domain: dom, srcPath: '/d', devAlias: 'virtio-disk0', action: 1, reason: 'enospc' }), {
      event: 'IO_ERROR_REASON',
      vir_domain_event: 'UNKNOWN',
    });
    const io = ['IO_ERROR_NONE', 'IO_ERROR_PAUSE', 'IO_ERROR_REPORT'];
    io.forEach((name, action) =>
      assert.deepEqual(vmEventNames({ kind: 'io-error', domain: dom, srcPath: '', devAlias: '', action }), { event: 'IO_ERROR', vir_domain_event: name }),
    );
    const wd = ['WATCHDOG_NONE', 'WATCHDOG_PAUSE', 'WATCHDOG_RESET', 'WATCHDOG_POWEROFF', 'WATCHDOG_SHUTDOWN', 'WATCHDOG_DEBUG'];
    wd.forEach((name, action) => assert.deepEqual(vmEventNames({ kind: 'watchdog', domain: dom, action }), { event: 'WATCHDOG', vir_domain_event: name }));
    assert.equal(vmEventNames({ kind: 'watchdog', domain: dom, action: 6 }), null, 'INJECTNMI is not in the table');
    assert.equal(vmEventNames({ kind: 'io-error', domain: dom, srcPath: '', devAlias: '', action: 9 }), null);
  });
});

describe('instance monitor drafts', () => {
  test('a reported event becomes a VM draft in masakari-monitors wire shape', async () => {
    const sink = new MemorySink();
    const fixed = new Date('2026-11-22T02:17:33.487Z');
    const m = new InstanceMonitor({
      source: { start: async () => {}, stop: async () => {} },
      sink,
      log: silentLogger,
      hostname: 'compute-1',
      env: { now: () => fixed } as never,
    });
    m.onEvent(lc(5, 5));
    m.onEvent(lc(2, 0)); // STARTED: not reported
    await m.stop();
    assert.deepEqual(sink.drafts, [
      {
        type: 'VM',
        hostname: 'compute-1',
        generated_time: '2026-11-22T02:17:33.487000',
        payload: { event: 'LIFECYCLE', instance_uuid: dom.uuid, vir_domain_event: 'STOPPED_FAILED' },
      },
    ]);
  });

  test('a failing sink is logged, not thrown into libvirt', async () => {
    const logged: string[] = [];
    const log = { ...silentLogger, info() {}, debug() {}, error: (_o: unknown, msg: string) => logged.push(msg) } as never;
    const m = new InstanceMonitor({
      source: { start: async () => {}, stop: async () => {} },
      sink: { submit: () => Promise.reject(new Error('disk full')) },
      log,
    });
    m.onEvent(lc(5, 1));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(logged, ['could not queue VM notification']);
  });
});

describe('instance monitor on libvirt test:///default', () => {
  test('destroying a running domain sends LIFECYCLE/STOPPED_DESTROYED for its UUID; starting sends nothing', async (t) => {
    if (!requireComponent(t, 'libvirt client library (Debian libvirt0)', libvirtAvailable())) return;
    const sink = new MemorySink();
    const source = new LibvirtDomainEventSource({ uri: 'test:///default', reconnectDelayMs: 100, log: silentLogger });
    const m = new InstanceMonitor({ source, sink, log: silentLogger, hostname: 'hv-test' });
    await m.start();
    const c = LibvirtConnection.open('test:///default');
    const uuid = randomUUID();
    const d = c.defineXML(
      `<domain type='test'><name>inst-${uuid.slice(0, 8)}</name><uuid>${uuid}</uuid><memory>65536</memory><os><type>hvm</type></os></domain>`,
    );
    try {
      await d.start();
      await d.destroy();
      const end = Date.now() + 5000;
      while (!sink.drafts.some((x) => x.payload.instance_uuid === uuid) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      const mine = sink.drafts.filter((x) => x.payload.instance_uuid === uuid);
      assert.equal(mine.length, 1, JSON.stringify(sink.drafts));
      assert.equal(mine[0]!.type, 'VM');
      assert.equal(mine[0]!.hostname, 'hv-test');
      assert.deepEqual(mine[0]!.payload, { event: 'LIFECYCLE', instance_uuid: uuid, vir_domain_event: 'STOPPED_DESTROYED' });
      assert.match(mine[0]!.generated_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    } finally {
      d.undefine();
      d.free();
      c.close();
      await m.stop();
    }
  });
});
