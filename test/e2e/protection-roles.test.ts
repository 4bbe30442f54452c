// Protection in a split deployment, as deployed: `masakari --role=controller` and `masakari --role=compute` as two
// real processes, the agent watching a private libvirtd + QEMU (TCG, a tiny domain) and sending heartbeats every
// 0.5 s; the controller calls an agent silent after 3 s (controller.agent_timeout). The story, in order:
//   the host is protected -> kill -9 of the agent makes it unprotected within agent_timeout, with the reason, and
//   nothing is recovered -> the restarted agent makes it protected again -> libvirtd stopped under the running agent
//   shows in the instance monitor's health and makes the host unprotected -> libvirtd back, protected again.
// `masakari protection` runs with the AGENT's configuration file: endpoint and auth come from compute.controller.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { libvirtLabAvailable, LIBVIRT_LAB_COMPONENT } from '../labs/libvirt/lab.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { runCli, waitFor } from '../support/cli.ts';
import { CHILD_ENV, COMPUTE_HOST, TwoRolesLab } from '../../bench/compute/two-roles-lab.ts';
import type { ProtectionReport } from '../../src/core/protection/service.ts';

const available = libvirtLabAvailable() && haveCommand('virsh');
const COMPONENT = `${LIBVIRT_LAB_COMPONENT} + virsh (libvirt-clients)`;
const AGENT_TIMEOUT_S = 3;

describe('protection: controller and compute agent as two processes, real libvirtd + QEMU', { timeout: 300_000 }, () => {
  let lab: TwoRolesLab | null = null;

  before(async () => {
    if (!available) return;
    lab = await TwoRolesLab.start({
      // No fencer in this lab: fencing off, so the host's protection depends on its agent alone (plus a warning).
      controllerEnv: { MASAKARI_CONTROLLER__AGENT_TIMEOUT: String(AGENT_TIMEOUT_S), MASAKARI_HOST_FAILURE__FENCING_REQUIRED: 'false' },
      computeEnv: { MASAKARI_COMPUTE__HEARTBEAT_INTERVAL: '0.5' },
    });
    await lab.startController();
    await lab.registerComputeHost();
    lab.defineDomain('prot-vm', 'c0e1c5d2-0000-4000-8000-0000000000d1');
    await lab.startDomain('prot-vm');
    await lab.startCompute();
  });
  after(async () => {
    await lab?.stop();
  });

  async function report(): Promise<ProtectionReport> {
    const r = await fetch(`${lab!.base}/x-masakari/protection`);
    assert.equal(r.status, 200);
    return (await r.json()) as ProtectionReport;
  }
  const host = (r: ProtectionReport) => r.hosts.find((h) => h.name === COMPUTE_HOST)!;
  async function waitProtection(want: boolean, what: string, ms = 60_000) {
    return waitFor(
      async () => {
        const h = host(await report());
        return h.protected === want ? h : undefined;
      },
      ms,
      `${what}\n--- controller:\n${lab!.controllerOutput().slice(-3000)}\n--- compute:\n${lab!.computeOutput().slice(-2000)}`,
    );
  }
  const controllerLines = (re: RegExp) =>
    lab!
      .controllerOutput()
      .split('\n')
      .filter((l) => re.test(l));

  it('the agent beats: the host is protected, with its libvirt link and version in the report; the CLI agrees (exit 1: fencing off)', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    const h = await waitProtection(true, 'the host protected');
    assert.deepEqual(h.reasons, []);
    assert.equal(h.agent?.silent, false);
    assert.match(h.agent.version!, /^\d+\.\d+\.\d+/);
    const libvirt = h.agent.monitors.instance!.libvirt as { connected: boolean; since: string };
    assert.equal(libvirt.connected, true);
    assert.equal(h.fencing.state, 'disabled');
    assert.match(h.warnings.join('\n'), /fencing is switched off/);

    const cli = await runCli(['protection', '--config', lab!.computeConfig, '--json'], { env: CHILD_ENV });
    assert.equal(cli.code, 1, cli.stderr);
    const fromCli = JSON.parse(cli.stdout) as ProtectionReport;
    assert.equal(host(fromCli).protected, true);
    assert.equal(fromCli.segments[0]!.name, 'e2e-segment');
  });

  it('kill -9 of the agent: unprotected within agent_timeout, reason "agent silent since"; logged once; nothing recovered', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    const before = host(await report()).agent!.last_seen!;
    const killedAt = Date.now();
    await lab!.killCompute();
    const h = await waitProtection(false, 'the host unprotected after kill -9 of its agent', 30_000);
    const elapsed = Date.now() - killedAt;
    assert.equal(h.reasons.length, 1, JSON.stringify(h.reasons));
    assert.match(h.reasons[0]!, new RegExp(`^agent silent since ${before.slice(0, 19)}.*agent_timeout ${AGENT_TIMEOUT_S} s\\)$`));
    assert.equal(h.agent!.silent, true);
    // agent_timeout after the last heartbeat, plus one evaluation interval (1 s here) and the time to ask.
    assert.ok(elapsed < (AGENT_TIMEOUT_S + 8) * 1000, `unprotected ${elapsed} ms after the kill`);

    const cli = await runCli(['protection', '--config', lab!.computeConfig], { env: CHILD_ENV });
    assert.equal(cli.code, 2, cli.stdout + cli.stderr);
    assert.match(cli.stdout, new RegExp(`^e2e-segment\\s+${COMPUTE_HOST}\\s+NO\\s+silent\\s+disabled$`, 'm'));

    // The periodic evaluation says it once, not at every check.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(controllerLines(/is NOT protected: agent silent since/).length, 1, controllerLines(/protection/).join('\n'));
    // A silent agent is not a failed host: nothing was notified or recovered.
    assert.deepEqual(await lab!.notifications(), []);
  });

  it('the agent restarted: protected again', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    await lab!.startCompute();
    const h = await waitProtection(true, 'the host protected again after the agent restarted');
    assert.deepEqual(h.reasons, []);
    assert.ok(controllerLines(/"msg":"host e2e-compute-1 is protected again"/).length >= 1);
  });

  it('libvirtd stopped under the running agent: the instance monitor reports the lost link, the host is unprotected; back when libvirtd is', async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    const stoppedAt = Date.now();
    await lab!.lab.stopDaemon('SIGKILL');
    const h = await waitProtection(false, 'the host unprotected while libvirtd is down');
    assert.ok(lab!.computeRunning(), 'the agent still runs');
    assert.equal(h.agent!.silent, false, 'the agent still beats');
    assert.equal(h.reasons.length, 1, JSON.stringify(h.reasons));
    assert.match(h.reasons[0]!, /^instance monitor disconnected from libvirt since \d{4}-\d\d-\d\dT[\d:.]+Z: (connection lost|cannot connect): /);
    const libvirt = h.agent!.monitors.instance!.libvirt as { connected: boolean; since: string; reason: string };
    assert.equal(libvirt.connected, false);
    assert.ok(Date.parse(libvirt.since) >= stoppedAt - 1000, `since ${libvirt.since}, stopped at ${new Date(stoppedAt).toISOString()}`);

    // The stored heartbeat shows the same (GET /v1/x-masakari/heartbeats).
    const hbs = (await (await fetch(`${lab!.base}/x-masakari/heartbeats`)).json()) as { heartbeats: { host: string; heartbeat: { monitors: any } }[] };
    assert.equal(hbs.heartbeats.find((x) => x.host === COMPUTE_HOST)!.heartbeat.monitors.instance.libvirt.connected, false);

    await lab!.lab.restartDaemon();
    const back = await waitProtection(true, 'the host protected again once libvirtd is back');
    assert.equal((back.agent!.monitors.instance!.libvirt as { connected: boolean }).connected, true);
  });
});
