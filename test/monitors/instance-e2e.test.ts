// End to end on a private libvirtd + QEMU (test/labs/libvirt): a QEMU process killed with SIGKILL must become a
// VM LIFECYCLE/STOPPED_FAILED notification for that domain, and monitoring must carry on after libvirtd restarts.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { NotificationDraft, NotificationSink } from '../../src/core/ports/notify.ts';
import { InstanceMonitor } from '../../src/core/monitors/instance/instance-monitor.ts';
import { LibvirtConnection, libvirtAvailable, type Domain } from '../../src/drivers/libvirt/index.ts';
import { LibvirtDomainEventSource } from '../../src/drivers/libvirt/event-source.ts';
import { LIBVIRT_LAB_COMPONENT, LibvirtLab, libvirtLabAvailable } from '../labs/libvirt/lab.ts';
import { tinyDomainXml } from '../labs/libvirt/tiny-domain.ts';

class MemorySink implements NotificationSink {
  readonly drafts: NotificationDraft[] = [];
  async submit(d: NotificationDraft): Promise<void> {
    this.drafts.push(d);
  }
}

async function until<T>(what: string, get: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const AVAILABLE = libvirtAvailable() && libvirtLabAvailable();

describe('instance monitor against a real libvirtd + QEMU', { timeout: 180_000 }, () => {
  let lab: LibvirtLab | null = null;
  let admin: LibvirtConnection | null = null;
  let monitor: InstanceMonitor | null = null;
  let source: LibvirtDomainEventSource | null = null;
  let domain: Domain | null = null;
  const sink = new MemorySink();
  const uuid = randomUUID();
  const name = `e2e-${uuid.slice(0, 8)}`;

  before(async () => {
    if (!AVAILABLE) return;
    lab = await LibvirtLab.start();
    source = new LibvirtDomainEventSource({ uri: lab.uri, keepalive: { intervalSec: 1, count: 2 }, reconnectDelayMs: 200, log: silentLogger });
    monitor = new InstanceMonitor({ source, sink, log: silentLogger, hostname: 'e2e-host' });
    await monitor.start();
  });

  after(async () => {
    domain?.free();
    admin?.close();
    await monitor?.stop();
    await lab?.stop();
  });

  const failedFor = () => sink.drafts.filter((d) => d.payload.instance_uuid === uuid && d.payload.vir_domain_event === 'STOPPED_FAILED');

  async function startAndKill(): Promise<void> {
    await domain!.start();
    const pid = await until('the QEMU pid file', () => lab!.qemuPid(name) ?? undefined);
    process.kill(pid, 'SIGKILL');
  }

  test('kill -9 of QEMU gives VM LIFECYCLE/STOPPED_FAILED for that UUID', async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, AVAILABLE)) return;
    admin = await LibvirtConnection.openAsync(lab!.uri);
    domain = admin.defineXML(tinyDomainXml({ name, uuid }));
    await startAndKill();
    const got = await until('a STOPPED_FAILED notification', () => failedFor().length >= 1 && failedFor());
    assert.deepEqual(got[0]!.payload, { event: 'LIFECYCLE', instance_uuid: uuid, vir_domain_event: 'STOPPED_FAILED' });
    assert.equal(got[0]!.type, 'VM');
    assert.equal(got[0]!.hostname, 'e2e-host');
    assert.deepEqual(domain.state().stateName, 'SHUTOFF');
    // Defining and starting are not reported (not in masakari's filter): only the failure is.
    assert.deepEqual(
      sink.drafts.filter((d) => d.payload.instance_uuid === uuid).map((d) => d.payload.vir_domain_event),
      ['STOPPED_FAILED'],
    );
  });

  test('after libvirtd restarts, the monitor reconnects and reports the next failure', async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, AVAILABLE) || !domain) return;
    const connectsBefore = source!.conn.connects;
    domain.free();
    domain = null;
    admin!.close();
    admin = null;

    await lab!.restartDaemon({ signal: 'SIGKILL' });
    await until('the monitor to reconnect', () => source!.conn.connects > connectsBefore && source!.conn.connection !== null);

    admin = await LibvirtConnection.openAsync(lab!.uri);
    domain = admin.lookupByUUID(uuid);
    assert.ok(domain, 'the persistent domain survived the restart');
    await startAndKill();
    const got = await until('a second STOPPED_FAILED notification', () => failedFor().length >= 2 && failedFor());
    assert.equal(got.length, 2);
  });

  test('a graceful libvirtd restart (SIGTERM) with a running domain: still monitored afterwards', async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, AVAILABLE) || !domain) return;
    await domain.start();
    const connectsBefore = source!.conn.connects;
    domain.free();
    domain = null;
    admin!.close();
    admin = null;

    await lab!.restartDaemon({ signal: 'SIGTERM' });
    await until('the monitor to reconnect', () => source!.conn.connects > connectsBefore && source!.conn.connection !== null);
    // QEMU kept running while libvirtd was down; libvirtd picked it up again, and its death is still seen.
    const pid = await until('the QEMU pid', () => lab!.qemuPid(name) ?? undefined);
    process.kill(pid, 'SIGKILL');
    await until('a third STOPPED_FAILED notification', () => failedFor().length >= 3 && failedFor());
  });

  test('a QEMU that dies while libvirtd is down is reported after the reconnection', async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, AVAILABLE)) return;
    admin ??= await LibvirtConnection.openAsync(lab!.uri);
    domain ??= admin.lookupByUUID(uuid);
    await domain!.start();
    await until('the source to see the domain running', () => source!.knownRunning().includes(uuid));
    const reported = failedFor().length;
    const connectsBefore = source!.conn.connects;
    domain!.free();
    domain = null;
    admin.close();
    admin = null;

    await lab!.stopDaemon('SIGKILL');
    const pid = lab!.qemuPid(name);
    assert.ok(pid, 'QEMU outlives libvirtd');
    process.kill(pid, 'SIGKILL');
    await lab!.restartDaemon();
    await until('the monitor to reconnect', () => source!.conn.connects > connectsBefore && source!.conn.connection !== null);
    const got = await until('the missed STOPPED_FAILED', () => failedFor().length > reported && failedFor());
    assert.deepEqual(got.at(-1)!.payload, { event: 'LIFECYCLE', instance_uuid: uuid, vir_domain_event: 'STOPPED_FAILED' });
  });

  test('a frozen libvirtd (SIGSTOP) is noticed by keepalive; monitoring resumes once it runs again', async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, AVAILABLE)) return;
    const current = await until('a connection', () => source!.conn.connection ?? undefined);
    let reason: string | null = null;
    current.onClose((r) => (reason = r));
    const daemon = lab!.libvirtdPid();
    assert.ok(daemon);
    const connectsBefore = source!.conn.connects;
    process.kill(daemon, 'SIGSTOP');
    try {
      // keepalive 1 s × (2 + 1): about 3 s
      await until('the keepalive to declare the connection dead', () => reason !== null, 15_000);
      assert.equal(reason, 'KEEPALIVE');
    } finally {
      process.kill(daemon, 'SIGCONT');
    }
    await until('the monitor to reconnect', () => source!.conn.connects > connectsBefore && source!.conn.connection !== null);
    admin ??= await LibvirtConnection.openAsync(lab!.uri);
    domain ??= admin.lookupByUUID(uuid);
    const reported = failedFor().length;
    await startAndKill();
    await until('a STOPPED_FAILED after the freeze', () => failedFor().length > reported && failedFor());
  });
});
