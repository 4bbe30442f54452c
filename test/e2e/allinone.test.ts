// `masakari --role=all` protecting real QEMU VMs (TCG, tiny diskless domains) on a private libvirtd:
// kill -9 of QEMU -> instance monitor -> outbox -> in-process API -> engine -> libvirt driver -> domain running.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libvirtLabAvailable, LIBVIRT_LAB_COMPONENT } from '../labs/libvirt/lab.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { AllInOne, NS, type Notif } from './allinone-lab.ts';

const available = libvirtLabAvailable() && haveCommand('virsh');
const COMPONENT = `${LIBVIRT_LAB_COMPONENT} + virsh (libvirt-clients)`;
const GATE_TASK = fileURLToPath(new URL('./fixtures/gate-task.ts', import.meta.url));

const HA = { name: 'ha-vm', uuid: 'a0e1c5d2-0000-4000-8000-00000000aa01' };
const OTHER = { name: 'bystander', uuid: 'a0e1c5d2-0000-4000-8000-00000000bb02' };

const taskNames = (n: Notif) => (n.recovery_workflow_details ?? []).map((t) => `${t.name}:${t.state}`);

/** The engine's status lines for one notification, in order (the all role logs each transition). */
function statusTrail(output: string, uuid: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as { component?: string; notification?: string; status?: string };
      if (o.component === 'recovery' && o.notification === uuid && o.status) out.push(o.status);
    } catch {
      /* not a log line */
    }
  }
  return out;
}

describe('masakari --role=all with a real libvirtd + QEMU', { timeout: 300_000 }, () => {
  it('restarts a killed HA-enabled VM and touches nothing else', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    const lab = await AllInOne.start();
    t.after(() => lab.stop());
    lab.defineDomain(HA.name, HA.uuid, true);
    lab.defineDomain(OTHER.name, OTHER.uuid, false);
    await lab.startMasakari();
    // It says what it protects: the marked domain, not the other one.
    await waitLog(lab, /protecting domain ha-vm on lab-host/);
    // The instance monitor subscribes after the protected domains are listed: kill only once the role is running.
    await waitLog(lab, /all-in-one role running/);
    assert.doesNotMatch(lab.output(), /protecting domain bystander/);
    const otherPid = lab.lab.qemuPid(OTHER.name);

    const killed = lab.killQemu(HA.name);
    const n = await lab.waitNotification(0, ['finished', 'error', 'failed', 'ignored']);
    await lab.waitRunning(HA.name, killed);

    assert.equal(n.status, 'finished', lab.output().slice(-3000));
    assert.equal(n.payload.instance_uuid, HA.uuid);
    assert.equal(n.payload.event, 'LIFECYCLE');
    assert.equal(n.payload.vir_domain_event, 'STOPPED_FAILED');
    assert.deepEqual(statusTrail(lab.output(), n.notification_uuid), ['running', 'finished']);
    // new: what the API stored before the engine ran (the outbox's in-process POST got 202 for a `new` one).
    assert.deepEqual(taskNames(n), [
      'InstanceRestartLimitTask:SUCCESS',
      'StopInstanceTask:SUCCESS',
      'StartInstanceTask:SUCCESS',
      'ConfirmInstanceActiveTask:SUCCESS',
    ]);
    const messages = n.recovery_workflow_details!.flatMap((d) => d.progress_details.map((p) => p.message));
    assert.ok(messages.includes(`Instance started: '${HA.uuid}'`), messages.join('\n'));
    assert.ok(messages.includes(`Confirmed instance '${HA.uuid}' vm_state is ACTIVE`), messages.join('\n'));
    // Nothing else touched: the other VM kept its QEMU process, and no other notification exists.
    assert.equal(lab.lab.qemuPid(OTHER.name), otherPid);
    assert.equal(lab.domainState(OTHER.name), 'running');
    assert.equal((await lab.notifications()).length, 1);
  });

  it('says when a running VM becomes protected (marked while the lab runs) and when it stops being', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    const lab = await AllInOne.start();
    t.after(() => lab.stop());
    lab.defineDomain(HA.name, HA.uuid, false);
    await lab.startMasakari();
    await waitLog(lab, /all-in-one role running/);
    assert.match(lab.output(), /no domain is HA-enabled yet/);
    // docs/lab.md's step: mark the running VM, then look for the line before killing it.
    lab.virsh('metadata', HA.name, '--uri', NS, '--key', 'masakari', '--set', '<ha enabled="true"/>', '--live', '--config');
    await waitLog(lab, /protecting domain ha-vm on lab-host/, 10_000);
    lab.virsh('metadata', HA.name, '--uri', NS, '--key', 'masakari', '--set', '<ha enabled="false"/>', '--live', '--config');
    await waitLog(lab, /no longer protecting domain ha-vm on lab-host/, 10_000);
  });

  it('stops restarting a VM that keeps crashing, at instance_restart_limit', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    const lab = await AllInOne.start();
    t.after(() => lab.stop());
    lab.defineDomain(HA.name, HA.uuid, true);
    await lab.startMasakari('instance_restart_limit: { max_restarts: 2, window_seconds: 3600 }');
    await waitLog(lab, /protecting domain ha-vm/);
    await waitLog(lab, /all-in-one role running/);
    for (let i = 0; i < 2; i++) {
      const killed = lab.killQemu(HA.name);
      const n = await lab.waitNotification(i, ['finished', 'error', 'failed', 'ignored']);
      assert.equal(n.status, 'finished', `restart ${i + 1}: ${lab.output().slice(-3000)}`);
      await lab.waitRunning(HA.name, killed);
    }
    lab.killQemu(HA.name);
    const third = await lab.waitNotification(2, ['finished', 'error', 'failed', 'ignored']);
    assert.equal(third.status, 'error');
    const limit = third.recovery_workflow_details!.find((d) => d.name === 'InstanceRestartLimitTask')!;
    assert.match(limit.progress_details.at(-1)!.message, /restarted 2 times in the last 3600 seconds/);
    assert.ok(!taskNames(third).some((x) => x.startsWith('StartInstanceTask')), 'no start was attempted');
    assert.equal(lab.domainState(HA.name), 'shut off');
  });

  it('completes a recovery across a libvirtd restart in the middle of it', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    const lab = await AllInOne.start();
    t.after(() => lab.stop());
    lab.defineDomain(HA.name, HA.uuid, true);
    const gate = join(lab.dir, 'gate-open');
    await lab.startMasakari(
      `taskflow_driver_recovery_flows:
  custom_task_modules: { test_gate_task: "${GATE_TASK}" }
  instance_failure_recovery_tasks: { pre: [instance_restart_limit_task, test_gate_task, stop_instance_task] }`,
      { E2E_RECOVERY_GATE_FILE: gate },
    );
    await waitLog(lab, /protecting domain ha-vm/);
    await waitLog(lab, /all-in-one role running/);
    const killed = lab.killQemu(HA.name);
    // The workflow is running and held at the gate: restart libvirtd under it, then let it go on.
    await lab.waitNotification(0, ['running']);
    await waitLog(lab, /TestGateTask RUNNING/);
    await lab.lab.restartDaemon();
    writeFileSync(gate, '');
    const n = await lab.waitNotification(0, ['finished', 'error', 'failed', 'ignored']);
    assert.equal(n.status, 'finished', lab.output().slice(-3000));
    await lab.waitRunning(HA.name, killed);
    assert.equal((await lab.notifications()).length, 1, 'the restart itself raised no notification');
  });
});

async function waitLog(lab: AllInOne, re: RegExp, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!re.test(lab.output())) {
    if (Date.now() > until) throw new Error(`log line ${re} not seen within ${ms} ms:\n${lab.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
