// The compute role end to end, as deployed: `masakari --role=compute` (real CLI process) watching a private
// libvirtd + QEMU (TCG, a tiny diskless domain), delivering over HTTP to `masakari --role=controller` (real CLI
// process, its own SQLite). kill -9 of QEMU → VM LIFECYCLE/STOPPED_FAILED at the controller; with the controller
// down the notification waits in the outbox and arrives after it returns; after libvirtd restarts, monitoring goes on;
// a crash while libvirtd and the controller are both away is still reported and delivered.
// The three steps run in order on one set-up (each continues the story of the previous one). The harness (shared
// with bench/compute/kill-to-delivered.bench.ts) is bench/compute/two-roles-lab.ts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { libvirtLabAvailable, LIBVIRT_LAB_COMPONENT } from '../labs/libvirt/lab.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { runCli, waitFor } from '../support/cli.ts';
import { CHILD_ENV, COMPUTE_HOST, TwoRolesLab, type ApiNotification } from '../../bench/compute/two-roles-lab.ts';

const available = libvirtLabAvailable() && haveCommand('virsh');
const COMPONENT = `${LIBVIRT_LAB_COMPONENT} + virsh (libvirt-clients)`;

const VM = { name: 'e2e-vm', uuid: 'c0e1c5d2-0000-4000-8000-0000000000c1' };
const FAILED = { event: 'LIFECYCLE', instance_uuid: VM.uuid, vir_domain_event: 'STOPPED_FAILED' };
/** The agent's log lines (JSON) that say it reconnected to libvirtd, and that it saw our domain start (lifecycle 2). */
const RECONNECTED = /"msg":"reconnected to libvirt; event subscriptions registered again"/;
const STARTED = new RegExp(`"instance_uuid":"${VM.uuid}".*"libvirt_event":"lifecycle 2/`);

describe('masakari --role=compute → masakari --role=controller, real libvirtd + QEMU', { timeout: 240_000 }, () => {
  let lab: TwoRolesLab | null = null;
  let hostUuid = '';

  before(async () => {
    if (!available) return;
    // debug: the agent then logs every libvirt event it sees, also those it does not report (domain started).
    lab = await TwoRolesLab.start({ computeLogLevel: 'debug' });
    await lab.startController();
    hostUuid = await lab.registerComputeHost();
    lab.defineDomain(VM.name, VM.uuid);
    await lab.startCompute();
  });

  after(async () => {
    await lab?.stop();
  });

  /** Starts the domain, kill -9's its QEMU, waits until libvirt has it shut off; returns the kill time (ms). */
  async function crashDomain(): Promise<number> {
    const pid = await lab!.startDomain(VM.name);
    assert.equal(lab!.domainState(VM.name), 'running');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await lab!.waitDomainState(VM.name, 'shut off');
    return killedAt;
  }

  function assertFailure(n: ApiNotification | undefined): void {
    assert.ok(n, 'a notification');
    assert.equal(n.type, 'VM');
    assert.deepEqual(n.payload, FAILED);
    assert.equal(n.source_host_uuid, hostUuid);
  }

  it('kill -9 of QEMU: the controller gets VM LIFECYCLE/STOPPED_FAILED for that instance', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    await crashDomain();
    const all = await lab!.waitNotifications(1);
    assert.equal(all.length, 1, JSON.stringify(all));
    assertFailure(all[0]);
    // Delivered and acknowledged: nothing left in the agent's outbox.
    await waitFor(async () => (lab!.outboxRows('sent').length === 1 ? true : undefined), 10_000, 'the outbox row marked sent');
    assert.deepEqual(lab!.outboxRows('pending'), []);
    assert.deepEqual(lab!.outboxRows('rejected'), []);
  });

  it('controller down: the notification waits in the outbox (retried) and arrives after the controller returns', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    assert.equal(await lab!.stopController(), 0, 'the controller exits 0 on SIGTERM');
    const killedAt = await crashDomain();

    // The agent keeps it and keeps trying: a pending row with failed attempts (connection refused).
    const pending = await waitFor(
      async () => {
        const p = lab!.outboxRows('pending');
        return p.length === 1 && p[0]!.attempts >= 3 ? p[0] : undefined;
      },
      30_000,
      `a pending outbox row retried 3 times\n${lab!.computeOutput().slice(-3000)}`,
    );
    assert.equal(pending.draft.type, 'VM');
    assert.equal(pending.draft.hostname, COMPUTE_HOST);
    assert.deepEqual(pending.draft.payload, FAILED);
    assert.ok(pending.lastError, 'the failed attempts say why');
    // What the operator sees meanwhile: `masakari monitors outbox` beside the running agent.
    const shown = await runCli(['monitors', 'outbox', '--config', lab!.computeConfig], { env: CHILD_ENV });
    assert.equal(shown.code, 0, shown.stderr);
    const status = JSON.parse(shown.stdout) as { pending: number; sent: number; pendingDrafts: { draft: { payload: unknown } }[] };
    assert.equal(status.pending, 1);
    assert.equal(status.sent, 1);
    assert.deepEqual(status.pendingDrafts[0]!.draft.payload, FAILED);

    const restartedAt = Date.now();
    await lab!.startController();
    const all = await lab!.waitNotifications(2);
    assert.equal(all.length, 2, JSON.stringify(all));
    assertFailure(all[1]);
    assert.notEqual(all[1]!.notification_uuid, all[0]!.notification_uuid);

    // Generated at the crash, while the controller was down; stored only after it came back.
    const stored = lab!.storedNotifications().find((s) => s.uuid === all[1]!.notification_uuid);
    assert.ok(stored, 'the second notification in the controller database');
    assert.ok(
      stored.generatedUs >= (killedAt - 1) * 1000 && stored.generatedUs < restartedAt * 1000,
      `generated_time ${stored.generatedUs} µs, kill ${killedAt} ms, restart ${restartedAt} ms`,
    );
    assert.ok(stored.createdUs >= restartedAt * 1000, `created_at ${stored.createdUs} µs is after the restart at ${restartedAt} ms`);

    await waitFor(async () => (lab!.outboxRows('sent').length === 2 ? true : undefined), 10_000, 'both outbox rows marked sent');
    assert.deepEqual(lab!.outboxRows('pending'), []);
  });

  it('libvirtd killed and started again: the agent reconnects and the next crash is delivered', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    const before = lab!.computeLogCount(RECONNECTED);
    const daemonBefore = lab!.lab.libvirtdPid();
    await lab!.lab.restartDaemon({ signal: 'SIGKILL' });
    assert.notEqual(lab!.lab.libvirtdPid(), daemonBefore, 'a new libvirtd');
    await lab!.waitComputeLog(RECONNECTED, before + 1);

    await crashDomain();
    const all = await lab!.waitNotifications(3);
    assert.equal(all.length, 3, JSON.stringify(all));
    assertFailure(all[2]);
    // One notification per crash, nothing else (starting a domain is not reported).
    assert.equal(lab!.storedNotifications().length, 3);
    await waitFor(async () => (lab!.outboxRows('sent').length === 3 ? true : undefined), 10_000, 'three outbox rows marked sent');
    assert.deepEqual(lab!.outboxRows('pending'), []);
    assert.deepEqual(lab!.outboxRows('rejected'), []);
  });

  it('QEMU dies while libvirtd and the controller are both down: reported after libvirtd returns, delivered after the controller does', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    // The agent must have seen the domain start (only a domain it knew running counts as crashed while away).
    const n = lab!.computeLogCount(STARTED);
    const pid = await lab!.startDomain(VM.name);
    await lab!.waitComputeLog(STARTED, n + 1);

    assert.equal(await lab!.stopController(), 0, 'the controller exits 0 on SIGTERM');
    await lab!.lab.stopDaemon('SIGKILL');
    assert.equal(lab!.lab.qemuPid(VM.name), pid, 'QEMU outlives libvirtd');
    process.kill(pid, 'SIGKILL');
    const reconnects = lab!.computeLogCount(RECONNECTED);
    await lab!.lab.restartDaemon();
    await lab!.waitComputeLog(RECONNECTED, reconnects + 1);
    await lab!.waitDomainState(VM.name, 'shut off');

    // Seen on reconnection, queued in the outbox while the controller is still away...
    await lab!.waitComputeLog(/"msg":"domain crashed while libvirtd was unreachable: reporting the missed STOPPED\/FAILED"/, 1);
    const pending = await waitFor(
      async () => {
        const p = lab!.outboxRows('pending');
        return p.length === 1 ? p[0] : undefined;
      },
      30_000,
      `the missed crash pending in the outbox\n${lab!.computeOutput().slice(-3000)}`,
    );
    assert.deepEqual(pending.draft.payload, FAILED);

    // ...and delivered once it is back.
    await lab!.startController();
    const all = await lab!.waitNotifications(4);
    assert.equal(all.length, 4, JSON.stringify(all));
    assertFailure(all[3]);
    await waitFor(async () => (lab!.outboxRows('sent').length === 4 ? true : undefined), 10_000, 'four outbox rows marked sent');
    assert.deepEqual(lab!.outboxRows('pending'), []);
    assert.deepEqual(lab!.outboxRows('rejected'), []);
    assert.ok(lab!.computeRunning(), 'the compute agent ran through all of it');
    assert.equal(await lab!.stopCompute(), 0, 'the compute agent exits 0 on SIGTERM');
  });
});
