// `masakari --role=all` with REAL guests (test/labs/guest: a tiny Linux under TCG with Debian's qemu-guest-agent):
// what the engine does with the introspective monitor's QEMU_GUEST_AGENT_ERROR and with the watchdog and I/O-error
// events a real QEMU raises is what Masakari does (is_valid_event): QEMU_GUEST_AGENT_ERROR/STOPPED_FAILED and
// IO_ERROR/IO_ERROR_REPORT are recovered (the VM is stopped and started again); WATCHDOG_*, REBOOT, SUSPENDED_IOERROR,
// IO_ERROR_PAUSE and IO_ERROR_REASON are stored and then ignored.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireComponent, haveCommand } from '../support/components.ts';
import { waitFor } from '../support/cli.ts';
import { libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import {
  buildGuest,
  GUEST_COMPONENT,
  guestAvailable,
  guestDomainXml,
  guestExec,
  serialText,
  smallFilesystemDisk,
  virshGuestPing,
  waitGuestAgent,
  type BuiltGuest,
} from '../labs/guest/guest.ts';
import { AllInOne, type Notif } from './allinone-lab.ts';

const AVAILABLE = libvirtAvailable() && guestAvailable() && haveCommand('virsh');
const COMPONENT = `${GUEST_COMPONENT} + virsh (libvirt-clients)`;
const BOOT_MS = 150_000;
const DONE = ['finished', 'error', 'failed', 'ignored'];

const AGENT = { name: 'agent-vm', uuid: 'b0e1c5d2-0000-4000-8000-0000000000a1' };
const WATCHDOG = { name: 'watchdog-vm', uuid: 'b0e1c5d2-0000-4000-8000-0000000000b2' };
const IO_STOP = { name: 'io-stop-vm', uuid: 'b0e1c5d2-0000-4000-8000-0000000000c3' };
const IO_REPORT = { name: 'io-report-vm', uuid: 'b0e1c5d2-0000-4000-8000-0000000000d4' };

const taskNames = (n: Notif) => (n.recovery_workflow_details ?? []).map((t) => `${t.name}:${t.state}`);
const RECOVERED = ['InstanceRestartLimitTask:SUCCESS', 'StopInstanceTask:SUCCESS', 'StartInstanceTask:SUCCESS', 'ConfirmInstanceActiveTask:SUCCESS'];

describe('masakari --role=all with real guests: guest agent, watchdog and I/O errors', { timeout: 420_000 }, () => {
  let lab: AllInOne | null = null;
  let guest: BuiltGuest;
  const consoles: Record<string, string> = {};

  before(async () => {
    if (!AVAILABLE) return;
    guest = await buildGuest();
    lab = await AllInOne.start();
    await lab.startMasakari('', {}, 'introspective_monitor: { enabled: true, interval: 1, timeout: 1, failure_threshold: 3 }');
    await waitLog(/all-in-one role running/);
    const start = (d: { name: string; uuid: string }, extra: Partial<Parameters<typeof guestDomainXml>[0]> = {}) => {
      consoles[d.name] = join(lab!.dir, `${d.name}.console`);
      lab!.defineDomainXml(d.name, guestDomainXml({ ...d, guest, serialLog: consoles[d.name]!, ...extra }), true);
    };
    start(AGENT);
    start(WATCHDOG, { watchdog: { action: 'reset', starveAfterSec: 4 } });
    // 16 MiB written to disks whose backing files live on 4 MiB filesystems: QEMU gets ENOSPC.
    start(IO_STOP, { disk: { path: smallFilesystemDisk(lab.lab, join(lab.dir, 'small-stop'), 4, 64), errorPolicy: 'stop', writeAfterSec: 2 } });
    start(IO_REPORT, { disk: { path: smallFilesystemDisk(lab.lab, join(lab.dir, 'small-report'), 4, 64), errorPolicy: 'report', writeAfterSec: 2 } });
  });

  after(async () => {
    await lab?.stop();
  });

  async function waitLog(re: RegExp, ms = 60_000): Promise<void> {
    await waitFor(async () => (re.test(lab!.output()) ? true : undefined), ms, `log line ${re}\n${lab!.output().slice(-4000)}`);
  }

  /** True when a JSON log line about `domain` has this message. */
  function logged(domain: string, msg: string): boolean {
    return lab!
      .output()
      .split('\n')
      .some((line) => {
        if (!line.startsWith('{')) return false;
        try {
          const o = JSON.parse(line) as { domain?: string; msg?: string };
          return o.domain === domain && o.msg === msg;
        } catch {
          return false;
        }
      });
  }

  /** The first notification with this payload, once it reached a final status. */
  async function settled(uuid: string, event: string, vde: string, ms = BOOT_MS): Promise<Notif> {
    return waitFor(
      async () => {
        const n = (await lab!.notifications()).find((x) => x.payload.instance_uuid === uuid && x.payload.event === event && x.payload.vir_domain_event === vde);
        return n && DONE.includes(n.status) ? lab!.notification(n.notification_uuid) : undefined;
      },
      ms,
      `${event}/${vde} for ${uuid} to be processed`,
    );
  }

  test('watchdog reset: WATCHDOG_RESET and REBOOT are stored and ignored, the guest is left alone', async (t) => {
    if (!requireComponent(t, COMPONENT, AVAILABLE)) return;
    const wd = await settled(WATCHDOG.uuid, 'WATCHDOG', 'WATCHDOG_RESET');
    assert.equal(wd.status, 'ignored');
    assert.deepEqual(taskNames(wd), []);
    const reboot = await settled(WATCHDOG.uuid, 'REBOOT', 'UNKNOWN');
    assert.equal(reboot.status, 'ignored');
    assert.equal(lab!.domainState(WATCHDOG.name), 'running');
    // It would reset again after every boot: stop it, so the rest of the test has the CPU.
    lab!.virsh('destroy', WATCHDOG.name);
  });

  test("I/O error with error_policy='stop': the guest is paused; SUSPENDED_IOERROR, IO_ERROR_PAUSE and IO_ERROR_REASON are ignored", async (t) => {
    if (!requireComponent(t, COMPONENT, AVAILABLE)) return;
    for (const [event, vde] of [
      ['LIFECYCLE', 'SUSPENDED_IOERROR'],
      ['IO_ERROR', 'IO_ERROR_PAUSE'],
      ['IO_ERROR_REASON', 'UNKNOWN'],
    ] as const) {
      const n = await settled(IO_STOP.uuid, event, vde);
      assert.equal(n.status, 'ignored', `${event}/${vde}`);
    }
    assert.equal(lab!.virsh('domstate', '--reason', IO_STOP.name).trim(), 'paused (I/O error)');
    // QEMU repeats the events once per failed request. A repeat that arrives while the first is still new or running is
    // a duplicate for the API (409); one that arrives after it was ignored is a new notification, as in Masakari, whose
    // duplicate check looks only at new and running ones. Either way: only these three kinds, every one ignored.
    const mine = (await lab!.notifications()).filter((x) => x.payload.instance_uuid === IO_STOP.uuid);
    const kinds = new Set(mine.map((x) => `${x.payload.event}/${x.payload.vir_domain_event}`));
    assert.deepEqual(
      [...kinds].sort(),
      ['IO_ERROR/IO_ERROR_PAUSE', 'IO_ERROR_REASON/UNKNOWN', 'LIFECYCLE/SUSPENDED_IOERROR'],
      JSON.stringify(mine.map((x) => x.payload)),
    );
    for (const n of mine) {
      const final = await waitFor(
        async () => {
          const now = await lab!.notification(n.notification_uuid);
          return DONE.includes(now.status) ? now : undefined;
        },
        BOOT_MS,
        `${n.notification_uuid} to be processed`,
      );
      assert.equal(final.status, 'ignored', JSON.stringify(final.payload));
    }
  });

  test("I/O error with error_policy='report': IO_ERROR_REPORT is recovered, the VM is stopped and started", async (t) => {
    if (!requireComponent(t, COMPONENT, AVAILABLE)) return;
    const n = await settled(IO_REPORT.uuid, 'IO_ERROR', 'IO_ERROR_REPORT');
    assert.equal(n.status, 'finished', lab!.output().slice(-3000));
    assert.deepEqual(taskNames(n), RECOVERED);
    assert.equal(lab!.domainState(IO_REPORT.name), 'running');
    // The engine confirms the domain runs; the guest inside boots again (its console is appended to across starts).
    await waitFor(
      async () => ((serialText(consoles[IO_REPORT.name]!).match(/guest: init at/g) ?? []).length >= 2 ? true : undefined),
      BOOT_MS,
      'the guest to boot again',
    );
  });

  test('an agent that stops answering: QEMU_GUEST_AGENT_ERROR, the VM restarted, its agent answering again', async (t) => {
    if (!requireComponent(t, COMPONENT, AVAILABLE)) return;
    await waitGuestAgent(lab!.lab.uri, AGENT.name, BOOT_MS, consoles[AGENT.name]);
    // The monitor counts failures only once it has had an answer from this run of the domain.
    await waitFor(
      async () => logged(AGENT.name, 'guest agent answered: watching it') || undefined,
      60_000,
      `the monitor to watch ${AGENT.name}\n${lab!.output().slice(-3000)}`,
    );
    const pid = lab!.lab.qemuPid(AGENT.name);
    guestExec(lab!.lab.uri, AGENT.name, '/bin/ga-outage', ['0']);
    const n = await settled(AGENT.uuid, 'QEMU_GUEST_AGENT_ERROR', 'STOPPED_FAILED', 90_000);
    assert.equal(n.status, 'finished', lab!.output().slice(-3000));
    assert.deepEqual(taskNames(n), RECOVERED);
    assert.ok(logged(AGENT.name, 'guest agent stopped answering: sending QEMU_GUEST_AGENT_ERROR'), lab!.output().slice(-3000));
    // A new QEMU process, and inside it a guest whose agent answers again.
    await lab!.waitRunning(AGENT.name, pid ?? -1);
    await waitGuestAgent(lab!.lab.uri, AGENT.name, BOOT_MS, consoles[AGENT.name]);
    assert.ok(virshGuestPing(lab!.lab.uri, AGENT.name).ok);
    const agentErrors = (await lab!.notifications()).filter((x) => x.payload.instance_uuid === AGENT.uuid && x.payload.event === 'QEMU_GUEST_AGENT_ERROR');
    assert.equal(agentErrors.length, 1, 'one notification for the one outage');
  });
});
