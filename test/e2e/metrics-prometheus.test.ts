// A real Prometheus server scrapes masakari on the private libvirtd + QEMU lab while a killed VM is recovered
// (kill -9 of QEMU -> instance monitor -> outbox -> API -> engine -> restart), then the test asks Prometheus's HTTP
// API for the recovery's histograms and the delivery counters:
//  - `masakari --role=controller` and `masakari --role=compute` as two processes, two scrape targets: the recovery's
//    histograms come from the controller's target, the delivery counters from the agent's;
//  - `masakari --role=all` (both parts in one process, one listener), with the shipped alert rules loaded.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libvirtLabAvailable, LIBVIRT_LAB_COMPONENT } from '../labs/libvirt/lab.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { waitFor } from '../support/cli.ts';
import { AllInOne, freePort } from './allinone-lab.ts';
import { TwoRolesLab } from '../../bench/compute/two-roles-lab.ts';

const available = libvirtLabAvailable() && haveCommand('virsh');
const COMPONENT = `${LIBVIRT_LAB_COMPONENT} + virsh (libvirt-clients)`;
const RULES = fileURLToPath(new URL('../../deploy/prometheus/masakari-rules.yml', import.meta.url));
const HA = { name: 'met-vm', uuid: 'a0e1c5d2-0000-4000-8000-0000000c0c01' };

/** A Prometheus server of the test's own: temp config and storage, loopback port, stopped by PID. */
class PrometheusServer {
  private output = '';
  private constructor(
    readonly dir: string,
    readonly base: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
  }

  static async start(targets: string[]): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'met-prom-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["${RULES}"]
scrape_configs:
  - job_name: masakari
    static_configs: [{ targets: ${JSON.stringify(targets)} }]
`,
    );
    const child = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const p = new PrometheusServer(dir, `http://127.0.0.1:${port}`, child);
    await waitFor(async () => ((await fetch(`${p.base}/-/ready`).catch(() => null))?.ok ? true : undefined), 60_000, 'prometheus ready').catch((e: Error) => {
      throw new Error(`${e.message}\n${p.output}`);
    });
    return p;
  }

  /** An instant query; the samples' values by their labels' JSON. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const r = await fetch(`${this.base}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await r.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    assert.equal(body.status, 'success', `${promql}: ${JSON.stringify(body)}`);
    return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  /** Waits until the query has a sample whose value satisfies `ok` (the next scrape may not have happened yet). */
  async waitValue(promql: string, ok: (v: number) => boolean, ms = 30_000): Promise<number> {
    return waitFor(
      async () => {
        const found = (await this.query(promql)).find((s) => ok(s.value));
        return found?.value;
      },
      ms,
      `prometheus: ${promql}\n${this.output.slice(-2000)}`,
    );
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('Prometheus scrapes masakari during a recovery', { timeout: 300_000 }, () => {
  it("has the recovery's histograms and the delivery counters", async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    if (!requireComponent(t, 'prometheus (Debian prometheus)', haveCommand('prometheus'))) return;
    const lab = await AllInOne.start();
    t.after(() => lab.stop());
    lab.defineDomain(HA.name, HA.uuid, true);
    const metricsPort = await freePort();
    await lab.startMasakari(`metrics: { listen: "127.0.0.1:${metricsPort}" }`);
    await waitFor(async () => (/all-in-one role running/.test(lab.output()) ? true : undefined), 60_000, 'all-in-one role running');
    const prom = await PrometheusServer.start([`127.0.0.1:${metricsPort}`]);
    t.after(() => prom.stop());
    await prom.waitValue('up{job="masakari"}', (v) => v === 1);
    assert.equal(await prom.waitValue('masakari_libvirt_connected{monitor="instance"}', (v) => v === 1), 1);

    const killed = lab.killQemu(HA.name);
    const n = await lab.waitNotification(0, ['finished', 'error', 'failed', 'ignored']);
    await lab.waitRunning(HA.name, killed);
    assert.equal(n.status, 'finished', lab.output().slice(-3000));

    // The recovery, as Prometheus scraped it: one whole VM recovery, one instance restart, each task timed.
    assert.equal(await prom.waitValue('masakari_recovery_duration_seconds_count{type="VM",status="finished"}', (v) => v >= 1), 1);
    const sum = await prom.waitValue('masakari_recovery_duration_seconds_sum{type="VM",status="finished"}', (v) => v > 0);
    assert.ok(sum < 300, `recovery took ${sum} s by the histogram`);
    assert.equal(await prom.waitValue('masakari_recovery_instance_restart_duration_seconds_count{result="success"}', (v) => v >= 1), 1);
    assert.equal(await prom.waitValue('masakari_recovery_start_delay_seconds_count{type="VM"}', (v) => v >= 1), 1);
    const p50 = await prom.waitValue('histogram_quantile(0.5, sum by (le) (masakari_recovery_duration_seconds_bucket{type="VM"}))', (v) => v > 0);
    assert.ok(Number.isFinite(p50), `median ${p50}`);
    assert.equal(await prom.waitValue('masakari_recovery_task_duration_seconds_count{task="StartInstanceTask",result="success"}', (v) => v >= 1), 1);
    // The delivery counters of the agent side: the monitor saw the crash, the outbox queued and delivered it.
    assert.ok((await prom.waitValue('masakari_monitor_events_total{monitor="instance",kind="lifecycle"}', (v) => v >= 1)) >= 1);
    assert.equal(await prom.waitValue('masakari_outbox_queued_total{type="VM"}', (v) => v >= 1), 1);
    assert.equal(await prom.waitValue('masakari_outbox_delivered_total{type="VM",result="accepted"}', (v) => v >= 1), 1);
    assert.equal(await prom.waitValue('masakari_outbox_backlog{state="pending"}', (v) => v === 0), 0);
    assert.equal(await prom.waitValue('masakari_api_request_duration_seconds_count{method="POST",route="/v1/notifications",code="202"}', (v) => v >= 1), 1);

    // The shipped rules loaded, and none of them fires on a healthy lab after a successful recovery.
    const rules = (await (await fetch(`${prom.base}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string }[] }[] } };
    assert.deepEqual(
      rules.data.groups.flatMap((g) => g.rules.map((r) => r.name)),
      [
        'MasakariRecoveryStuck',
        'MasakariRecoveryFailed',
        'MasakariHostUnprotected',
        'MasakariOutboxBacklogGrowing',
        'MasakariLibvirtDisconnected',
        'MasakariAgentSilent',
      ],
    );
    assert.deepEqual(await prom.query('ALERTS'), []);
  });

  it("a controller and a compute agent as two targets: the recovery's histograms on one, the delivery counters on the other", async (t) => {
    if (!requireComponent(t, COMPONENT, available)) return;
    if (!requireComponent(t, 'prometheus (Debian prometheus)', haveCommand('prometheus'))) return;
    const ports = { controller: await freePort(), compute: await freePort() };
    const lab = await TwoRolesLab.start({ recover: true, metricsPorts: ports });
    t.after(() => lab.stop());
    await lab.startController();
    await lab.registerComputeHost();
    const vm = { name: 'met-vm2', uuid: 'a0e1c5d2-0000-4000-8000-0000000c0c02' };
    lab.defineDomain(vm.name, vm.uuid);
    const pid = await lab.startDomain(vm.name);
    await lab.startCompute();
    const ctl = `127.0.0.1:${ports.controller}`;
    const agent = `127.0.0.1:${ports.compute}`;
    const prom = await PrometheusServer.start([ctl, agent]);
    t.after(() => prom.stop());
    await prom.waitValue(`up{instance="${ctl}"}`, (v) => v === 1);
    await prom.waitValue(`up{instance="${agent}"}`, (v) => v === 1);
    await prom.waitValue(`masakari_libvirt_connected{instance="${agent}",monitor="instance"}`, (v) => v === 1);

    process.kill(pid, 'SIGKILL');
    const [n] = await lab.waitNotifications(1);
    const done = await waitFor(
      async () => {
        const cur = (await lab.notifications()).find((x) => x.notification_uuid === n!.notification_uuid);
        return cur && ['finished', 'error', 'failed', 'ignored'].includes(cur.status) ? cur : undefined;
      },
      60_000,
      `the recovery of ${vm.name}\n${lab.controllerOutput().slice(-3000)}`,
    );
    assert.equal(done.status, 'finished', lab.controllerOutput().slice(-3000));
    await lab.waitDomainState(vm.name, 'running');

    // The controller's target: the whole recovery, the restart and the start delay; no agent metric there.
    assert.equal(await prom.waitValue(`masakari_recovery_duration_seconds_count{instance="${ctl}",type="VM",status="finished"}`, (v) => v >= 1), 1);
    assert.equal(await prom.waitValue(`masakari_recovery_instance_restart_duration_seconds_count{instance="${ctl}",result="success"}`, (v) => v >= 1), 1);
    assert.equal(await prom.waitValue(`masakari_notifications_accepted_total{instance="${ctl}",type="VM"}`, (v) => v >= 1), 1);
    assert.deepEqual(await prom.query(`masakari_outbox_queued_total{instance="${ctl}"}`), []);
    // The agent's target: the crash seen, queued, delivered over HTTP; the backlog empty again.
    assert.equal(await prom.waitValue(`masakari_outbox_queued_total{instance="${agent}",type="VM"}`, (v) => v >= 1), 1);
    assert.equal(await prom.waitValue(`masakari_outbox_delivered_total{instance="${agent}",type="VM",result="accepted"}`, (v) => v >= 1), 1);
    assert.equal(await prom.waitValue(`masakari_outbox_backlog{instance="${agent}",state="pending"}`, (v) => v === 0), 0);
    assert.deepEqual(await prom.query(`masakari_recovery_duration_seconds_count{instance="${agent}"}`), []);
  });
});
