// The introspective and instance monitors against a REAL guest (test/labs/guest): a tiny Linux booted by libvirt
// under TCG, running Debian's qemu-guest-agent, feeding an i6300esb watchdog, writing to a disk. The scripted agent
// source (introspective.test.ts) stays for the deterministic cases; this is the proof against the real thing.
//
// Measured here (2 cores shared by many test runs, TCG): guest build 3 s (0.1 s when cached), libvirt start to the
// first answered guest-ping 6–18 s, QEMU resident memory about 220 MiB per guest (the test prints them).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { NotificationDraft, NotificationSink } from '../../src/core/ports/notify.ts';
import { IntrospectiveMonitor } from '../../src/core/monitors/introspective/introspective-monitor.ts';
import { InstanceMonitor } from '../../src/core/monitors/instance/instance-monitor.ts';
import { LibvirtGuestAgentSource } from '../../src/drivers/libvirt/guest-agent-source.ts';
import { LibvirtDomainEventSource } from '../../src/drivers/libvirt/event-source.ts';
import { LibvirtConnection, libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import { LibvirtLab } from '../labs/libvirt/lab.ts';
import { tinyDomainXml } from '../labs/libvirt/tiny-domain.ts';
import {
  buildGuest,
  GUEST_COMPONENT,
  guestAvailable,
  guestDomainXml,
  guestExec,
  qemuRssMiB,
  serialText,
  smallFilesystemDisk,
  waitGuestAgent,
  type BuiltGuest,
  type GuestDomainOptions,
} from '../labs/guest/guest.ts';

const AVAILABLE = libvirtAvailable() && guestAvailable();
/** TCG boots on a loaded machine: generous, but bounded. */
const BOOT_MS = 120_000;

class MemorySink implements NotificationSink {
  readonly drafts: NotificationDraft[] = [];
  async submit(d: NotificationDraft): Promise<void> {
    this.drafts.push(d);
  }
}

async function until<T>(what: string, get: () => T | undefined | false, ms: number, detail: () => string = () => ''): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function virsh(lab: LibvirtLab, ...args: string[]): string {
  return execFileSync('virsh', ['-q', '-c', lab.uri, ...args], { encoding: 'utf8', timeout: 60_000 }).trim();
}

function startGuest(lab: LibvirtLab, o: Omit<GuestDomainOptions, 'serialLog'>): { serialLog: string; startedAt: number } {
  const serialLog = join(lab.dir, `${o.name}.console`);
  const c = LibvirtConnection.open(lab.uri);
  try {
    c.defineXML(guestDomainXml({ ...o, serialLog })).free();
  } finally {
    c.close();
  }
  const startedAt = Date.now();
  virsh(lab, 'start', o.name);
  return { serialLog, startedAt };
}

describe('introspective monitor against a real QEMU guest agent', { timeout: 300_000 }, () => {
  let lab: LibvirtLab | null = null;
  let guest: BuiltGuest;
  const vm = { uuid: randomUUID(), name: 'ga-guest' };
  const noChannel = { uuid: randomUUID(), name: 'no-channel' };
  let serialLog = '';

  before(async () => {
    if (!AVAILABLE) return;
    guest = await buildGuest();
    lab = await LibvirtLab.start();
    const s = startGuest(lab, { ...vm, guest });
    serialLog = s.serialLog;
    // A VM without the channel: the tiny domain (no OS at all) is enough, and costs no boot.
    const c = LibvirtConnection.open(lab.uri);
    c.defineXML(tinyDomainXml(noChannel)).free();
    c.close();
    virsh(lab, 'start', noChannel.name);
    const bootMs = await waitGuestAgent(lab.uri, vm.name, BOOT_MS, serialLog);
    console.log(
      `# real guest: build ${guest.buildMs} ms, start to first guest-ping ${Date.now() - s.startedAt} ms (polled ${bootMs} ms), QEMU RSS ${qemuRssMiB(lab, vm.name)} MiB`,
    );
  });

  after(async () => {
    await lab?.stop();
  });

  test('an agent that exits, or hangs, is reported once per outage, after failure_threshold pings; it clears when the agent answers again; shutdown is not a failure', async (t) => {
    if (!requireComponent(t, GUEST_COMPONENT, AVAILABLE)) return;
    const source = new LibvirtGuestAgentSource({ uri: lab!.uri, reconnectDelayMs: 200, log: silentLogger });
    const sink = new MemorySink();
    const threshold = 3;
    const m = new IntrospectiveMonitor({ source, sink, log: silentLogger, intervalSec: 1, timeoutSec: 1, failureThreshold: threshold, hostname: 'guest-host' });
    await m.start();
    try {
      const console_ = () => `\n--- guest console:\n${serialText(serialLog).split('\n').slice(-15).join('\n')}`;
      // Only the VM with the channel is watched.
      assert.deepEqual(
        (await source.listAgentDomains()).map((d) => d.uuid),
        [vm.uuid],
      );
      await until('the agent to be seen healthy', () => m.journal(vm.uuid)?.phase === 'healthy', 30_000);
      assert.equal(m.journal(noChannel.uuid), undefined, 'a VM without the agent channel is not watched');

      // The agent goes away for 15 s (it exits: libvirt says "not connected" at once), then comes back.
      let t0 = Date.now();
      guestExec(lab!.uri, vm.name, '/bin/ga-outage', ['15']);
      await until('QEMU_GUEST_AGENT_ERROR', () => sink.drafts.length > 0, 60_000, console_);
      console.log(`# agent exited: reported ${Date.now() - t0 - 1000} ms after it was stopped`);
      const j = m.journal(vm.uuid)!;
      assert.equal(j.phase, 'reported');
      assert.equal(j.failures, threshold, 'reported at the threshold-th failed ping, not later');
      assert.equal(sink.drafts.length, 1);
      const d = sink.drafts[0]!;
      assert.equal(d.type, 'VM');
      assert.equal(d.hostname, 'guest-host');
      assert.match(d.generated_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      assert.deepEqual(d.payload, { event: 'QEMU_GUEST_AGENT_ERROR', instance_uuid: vm.uuid, vir_domain_event: 'STOPPED_FAILED' });

      // Still failing for a while: no second notification for the same episode.
      await until('more failed pings after the report', () => m.journal(vm.uuid)!.failures >= threshold + 3, 30_000);
      assert.equal(sink.drafts.length, 1, 'one notification per episode');
      assert.ok(/QEMU-GA STOPPED/.test(serialText(serialLog)), 'the guest says its agent was stopped');

      // The agent is started again inside the guest: the journal is healthy again, nothing more is sent.
      await until('the agent to answer again', () => m.journal(vm.uuid)?.phase === 'healthy', 60_000, console_);
      assert.equal(sink.drafts.length, 1);

      // A HUNG agent (SIGSTOP: the port stays open, libvirt can only time out) is a failure too, reported once;
      // SIGCONT ends it. After one timeout libvirt re-syncs with the agent under its own 5 s agent timeout, so each
      // later ping takes ~5 s whatever our 1 s: the report came ~14 s after the hang here.
      const failuresBefore = m.journal(vm.uuid)!.failures;
      assert.equal(failuresBefore, 0);
      t0 = Date.now();
      guestExec(lab!.uri, vm.name, '/bin/ga-outage', ['25', 'STOP']);
      await until('the second QEMU_GUEST_AGENT_ERROR (hung agent)', () => sink.drafts.length > 1, 90_000, console_);
      console.log(`# agent hung: reported ${Date.now() - t0 - 1000} ms after it was stopped`);
      assert.equal(m.journal(vm.uuid)!.phase, 'reported');
      assert.deepEqual(sink.drafts[1]!.payload, sink.drafts[0]!.payload);
      await until('the hung agent to answer again', () => m.journal(vm.uuid)?.phase === 'healthy', 90_000, console_);
      assert.equal(sink.drafts.length, 2);

      // A guest shut down (through its own agent, so it really powers off) is not an agent failure.
      virsh(lab!, 'shutdown', vm.name, '--mode', 'agent');
      await until('the guest to power off', () => virsh(lab!, 'domstate', vm.name) === 'shut off', 60_000, console_);
      const rounds = m.rounds;
      await until('a few more rounds', () => m.rounds >= rounds + 3, 30_000);
      assert.equal(m.journal(vm.uuid), undefined, 'a stopped VM is forgotten');
      assert.equal(sink.drafts.length, 2, 'shutting down is not reported as an agent failure');
    } finally {
      await m.stop();
    }
  });
});

describe('instance monitor: watchdog and I/O-error events from a real QEMU', { timeout: 240_000 }, () => {
  let lab: LibvirtLab | null = null;
  let monitor: InstanceMonitor | null = null;
  const sink = new MemorySink();
  const wdNone = { uuid: randomUUID(), name: 'wd-none' };
  const wdReset = { uuid: randomUUID(), name: 'wd-reset' };
  const ioStop = { uuid: randomUUID(), name: 'io-stop' };
  const logs: Record<string, string> = {};

  before(async () => {
    if (!AVAILABLE) return;
    const guest = await buildGuest();
    lab = await LibvirtLab.start();
    const source = new LibvirtDomainEventSource({ uri: lab.uri, reconnectDelayMs: 200, log: silentLogger });
    monitor = new InstanceMonitor({ source, sink, log: silentLogger, hostname: 'guest-host' });
    await monitor.start();
    // The guests feed their watchdog for 4 s after boot, then stop; it fires 2 s (the heartbeat) later.
    logs[wdNone.name] = startGuest(lab, { ...wdNone, guest, watchdog: { action: 'none', starveAfterSec: 4 } }).serialLog;
    logs[wdReset.name] = startGuest(lab, { ...wdReset, guest, watchdog: { action: 'reset', starveAfterSec: 4 } }).serialLog;
    // 16 MiB written to a disk whose backing file lives on a 4 MiB tmpfs: QEMU gets ENOSPC.
    const disk = smallFilesystemDisk(lab, join(lab.dir, 'small'), 4, 64);
    logs[ioStop.name] = startGuest(lab, { ...ioStop, guest, disk: { path: disk, errorPolicy: 'stop', writeAfterSec: 2 } }).serialLog;
  });

  after(async () => {
    await monitor?.stop();
    await lab?.stop();
  });

  const eventsOf = (uuid: string) => sink.drafts.filter((d) => d.payload.instance_uuid === uuid).map((d) => `${d.payload.event}/${d.payload.vir_domain_event}`);
  const consoleOf = (name: string) => () =>
    `\n--- ${name} console:\n${serialText(logs[name]!).split('\n').slice(-15).join('\n')}\nnotifications: ${JSON.stringify(sink.drafts.map((d) => d.payload))}`;

  test("watchdog action 'none': WATCHDOG/WATCHDOG_NONE, and the guest runs on", async (t) => {
    if (!requireComponent(t, GUEST_COMPONENT, AVAILABLE)) return;
    await until('WATCHDOG_NONE', () => eventsOf(wdNone.uuid).includes('WATCHDOG/WATCHDOG_NONE'), BOOT_MS, consoleOf(wdNone.name));
    assert.match(serialText(logs[wdNone.name]!), /WATCHDOG NOT FED ANY MORE/);
    assert.deepEqual(eventsOf(wdNone.uuid), ['WATCHDOG/WATCHDOG_NONE'], 'QEMU acts once and the guest keeps running');
    assert.equal(virsh(lab!, 'domstate', wdNone.name), 'running');
    const d = sink.drafts.find((x) => x.payload.instance_uuid === wdNone.uuid)!;
    assert.equal(d.type, 'VM');
    assert.equal(d.hostname, 'guest-host');
  });

  test("watchdog action 'reset': WATCHDOG/WATCHDOG_RESET, then the guest's reset as REBOOT/UNKNOWN", async (t) => {
    if (!requireComponent(t, GUEST_COMPONENT, AVAILABLE)) return;
    await until('WATCHDOG_RESET and REBOOT', () => eventsOf(wdReset.uuid).includes('REBOOT/UNKNOWN'), BOOT_MS, consoleOf(wdReset.name));
    const ev = eventsOf(wdReset.uuid);
    assert.deepEqual(ev.slice(0, 2), ['WATCHDOG/WATCHDOG_RESET', 'REBOOT/UNKNOWN']);
    // The reset guest boots again (its init runs a second time) and the domain stays running.
    await until(
      'the guest to boot again',
      () => (serialText(logs[wdReset.name]!).match(/guest: init at/g) ?? []).length >= 2,
      BOOT_MS,
      consoleOf(wdReset.name),
    );
    assert.equal(virsh(lab!, 'domstate', wdReset.name), 'running');
  });

  test("a write error with error_policy='stop' pauses the guest: SUSPENDED_IOERROR, IO_ERROR_PAUSE, IO_ERROR_REASON", async (t) => {
    if (!requireComponent(t, GUEST_COMPONENT, AVAILABLE)) return;
    await until('the I/O error events', () => eventsOf(ioStop.uuid).includes('LIFECYCLE/SUSPENDED_IOERROR'), BOOT_MS, consoleOf(ioStop.name));
    const ev = new Set(eventsOf(ioStop.uuid));
    assert.deepEqual([...ev].sort(), ['IO_ERROR/IO_ERROR_PAUSE', 'IO_ERROR_REASON/UNKNOWN', 'LIFECYCLE/SUSPENDED_IOERROR']);
    assert.equal(virsh(lab!, 'domstate', '--reason', ioStop.name), 'paused (I/O error)');
  });
});
