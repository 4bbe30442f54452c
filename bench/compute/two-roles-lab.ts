// Shared by test/e2e/compute-role.test.ts and bench/compute/kill-to-delivered.bench.ts: the two roles as separate
// real CLI processes on one machine, as in production on two.
//
//   private libvirtd + QEMU (test/labs/libvirt)  <──  masakari --role=compute  ──HTTP──>  masakari --role=controller
//                                                    (instance monitor, outbox)         (API + engine, own SQLite)
//
// Everything lives in one mkdtemp directory; the controller listens on a random free loopback port and keeps that
// port and its database across stopController()/startController(). stop() ends every process it started, by PID.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LibvirtLab } from '../../test/labs/libvirt/lab.ts';
import { tinyDomainXml } from '../../test/labs/libvirt/tiny-domain.ts';
import { startCli, waitFor } from '../../test/support/cli.ts';
import { freePort } from '../../test/e2e/allinone-lab.ts';
import { OutboxStore, type OutboxRow } from '../../src/core/delivery/outbox-store.ts';

/** The compute agent's name (compute.hostname), registered at the controller as a host of a segment. */
export const COMPUTE_HOST = 'e2e-compute-1';

type Cli = ReturnType<typeof startCli>;

export interface ApiNotification {
  notification_uuid: string;
  type: string;
  source_host_uuid: string;
  status: string;
  generated_time: string;
  created_at: string;
  payload: Record<string, string>;
}

/** A row of the controller's notifications table, as stored (times in µs since the epoch). */
export interface StoredNotification {
  uuid: string;
  createdUs: number;
  generatedUs: number;
  payload: Record<string, string>;
}

// MASAKARI_* variables configure masakari (unknown keys are refused): the lab's own switch must not reach it.
export const CHILD_ENV = { MASAKARI_KEEP_LAB: undefined } as unknown as Record<string, string>;

/** Polls `probe` until it gives a value; fails at once (with the child's output) when the child exits. */
async function until<T>(child: Cli, probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`waiting for ${what}: the process exited (${child.exitCode ?? child.signalCode})\n${child.output().slice(-4000)}`);
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${child.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM (SIGKILL after 10 s); resolves with the exit code (null: killed by a signal, or already gone). */
async function stopChild(child: Cli | null): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return null;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(t);
  return code;
}

export interface TwoRolesOptions {
  /** Controller log level (the bench uses warn, so logging does not weigh on the measurement). */
  logLevel?: 'debug' | 'info' | 'warn';
  /** Compute agent log level (at least info: the harness waits for its "connected to libvirt" line). */
  computeLogLevel?: 'debug' | 'info';
  /** The controller recovers VMs on the lab's libvirtd (libvirt driver, every domain HA-enabled) instead of none. */
  recover?: boolean;
  /** Metrics listener ports of the two roles (default: the configuration's default, metrics.listen). */
  metricsPorts?: { controller: number; compute: number };
  /** Extra MASAKARI_* variables for the controller and for the compute agent (e.g. short heartbeat timings). */
  controllerEnv?: Record<string, string>;
  computeEnv?: Record<string, string>;
}

export class TwoRolesLab {
  readonly dir: string;
  readonly base: string;
  readonly controllerConfig: string;
  readonly computeConfig: string;
  readonly controllerDb: string;
  readonly outboxPath: string;
  private controller: Cli | null = null;
  private compute: Cli | null = null;
  /** Output of compute agents that have already exited (killCompute). */
  private computePast = '';
  /** Output of controller processes that have already exited (the current one's comes from the child). */
  private controllerPast = '';

  private constructor(
    readonly lab: LibvirtLab,
    readonly port: number,
    readonly opts: TwoRolesOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'masakari-compute-e2e-'));
    this.base = `http://127.0.0.1:${port}/v1`;
    this.controllerConfig = join(this.dir, 'controller.yaml');
    this.computeConfig = join(this.dir, 'compute.yaml');
    this.controllerDb = join(this.dir, 'controller', 'masakari.sqlite');
    this.outboxPath = join(this.dir, 'compute', 'outbox.sqlite');
    mkdirSync(join(this.dir, 'controller'));
    mkdirSync(join(this.dir, 'compute'));
    const level = opts.logLevel ?? 'info';
    writeFileSync(
      this.controllerConfig,
      `# masakari --role=controller of the compute-role e2e test
data_dir: ${join(this.dir, 'controller')}
log: { level: ${level}, format: json }
api: { listen: "127.0.0.1:${port}" }
database: { url: "sqlite:${this.controllerDb}" }
${
  opts.recover
    ? `controller: { compute_driver: libvirt, owner_id: e2e-controller }\nlibvirt_compute: { hosts: { ${COMPUTE_HOST}: { uri: "${lab.uri}" } }, ha_enabled_default: true }\n`
    : 'controller: { compute_driver: none, owner_id: e2e-controller }\n'
}${opts.metricsPorts ? `metrics: { listen: "127.0.0.1:${opts.metricsPorts.controller}" }\n` : ''}# Without recover (no driver): each notification ends in error at once. The same VM crashing again seconds later is a
# new failure, never a duplicate of one still new/running (Masakari's window: 180 s).
engine: { duplicate_notification_detection_interval: 0 }
`,
    );
    writeFileSync(
      this.computeConfig,
      `# masakari --role=compute of the compute-role e2e test
data_dir: ${join(this.dir, 'compute')}
log: { level: ${opts.computeLogLevel ?? 'info'}, format: json }
compute:
  hostname: ${COMPUTE_HOST}
  controller: { endpoint: "${this.base}", timeout_seconds: 5 }
  delivery: { outbox_path: ${this.outboxPath}, retry_initial_seconds: 0.2, retry_max_seconds: 1 }
libvirt:
  connection_uri: "${lab.uri}"
  keepalive_interval: 1
  keepalive_count: 2
  reconnect_interval: 0.3
  instance_monitor: { enabled: true }
${opts.metricsPorts ? `metrics: { listen: "127.0.0.1:${opts.metricsPorts.compute}" }\n` : ''}`,
    );
  }

  static async start(opts: TwoRolesOptions = {}): Promise<TwoRolesLab> {
    const lab = await LibvirtLab.start();
    try {
      return new TwoRolesLab(lab, await freePort(), opts);
    } catch (e) {
      await lab.stop();
      throw e;
    }
  }

  // ---- controller ----

  /** Starts `masakari --role=controller` (same port, same database every time); resolves once the API answers. */
  async startController(): Promise<void> {
    if (this.controller) throw new Error('controller already running');
    const child = startCli(['--role=controller', '--config', this.controllerConfig], {
      ...CHILD_ENV,
      MASAKARI_DATABASE__AUTO_MIGRATE: 'true',
      ...this.opts.controllerEnv,
    });
    this.controller = child;
    await until(
      child,
      async () => ((await fetch(`${this.base}/`).catch(() => null))?.ok ? true : undefined),
      60_000,
      `masakari --role=controller on port ${this.port}`,
    );
  }

  /** SIGTERM to the controller; resolves with its exit code once it has exited. */
  async stopController(): Promise<number | null> {
    const child = this.controller;
    const code = await stopChild(child);
    if (child) this.controllerPast += child.output();
    this.controller = null;
    return code;
  }

  controllerOutput(): string {
    return this.controllerPast + (this.controller?.output() ?? '');
  }

  private async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'OpenStack-API-Version': 'instance-ha 1.1' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  /** The segment and host the compute agent reports as (a VM notification of an unknown host is refused with 400). */
  async registerComputeHost(): Promise<string> {
    const seg = await this.api<{ segment: { uuid: string } }>('POST', '/segments', {
      segment: { name: 'e2e-segment', recovery_method: 'auto', service_type: 'COMPUTE' },
    });
    const host = await this.api<{ host: { uuid: string } }>('POST', `/segments/${seg.segment.uuid}/hosts`, {
      host: { name: COMPUTE_HOST, type: 'COMPUTE', control_attributes: 'SSH' },
    });
    return host.host.uuid;
  }

  /** GET /v1/notifications, oldest first. */
  async notifications(): Promise<ApiNotification[]> {
    return (await this.api<{ notifications: ApiNotification[] }>('GET', '/notifications?sort_key=created_at&sort_dir=asc')).notifications;
  }

  /** Waits until the controller lists at least `count` notifications; returns them, oldest first. */
  async waitNotifications(count: number, ms = 60_000): Promise<ApiNotification[]> {
    return waitFor(
      async () => {
        const all = await this.notifications();
        return all.length >= count ? all : undefined;
      },
      ms,
      `${count} notification(s) at the controller\n--- compute:\n${this.computeOutput().slice(-3000)}\n--- controller:\n${this.controllerOutput().slice(-2000)}`,
    );
  }

  /** The controller's notifications table read directly (read-only, beside the running controller; WAL). */
  storedNotifications(): StoredNotification[] {
    if (!existsSync(this.controllerDb)) return [];
    const db = new Database(this.controllerDb, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 2000');
      const rows = db.prepare('SELECT uuid, created_at, generated_time, payload FROM notifications ORDER BY id').all() as {
        uuid: string;
        created_at: number;
        generated_time: number;
        payload: string;
      }[];
      return rows.map((r) => ({
        uuid: r.uuid,
        createdUs: r.created_at,
        generatedUs: r.generated_time,
        payload: JSON.parse(r.payload) as Record<string, string>,
      }));
    } finally {
      db.close();
    }
  }

  // ---- compute agent ----

  /** Starts `masakari --role=compute`; resolves once its instance monitor is connected to libvirtd. */
  async startCompute(): Promise<void> {
    if (this.compute) throw new Error('compute agent already running');
    const child = startCli(['--role=compute', '--config', this.computeConfig], { ...CHILD_ENV, ...this.opts.computeEnv });
    this.compute = child;
    const seen = { connected: this.computeLogCount(/"msg":"connected to libvirt"/), running: this.computeLogCount(/"msg":"compute role running"/) };
    await this.waitComputeLog(/"msg":"connected to libvirt"/, seen.connected + 1);
    await this.waitComputeLog(/"msg":"compute role running"/, seen.running + 1);
  }

  /** kill -9 of the compute agent (no clean stop: no last heartbeat, no outbox flush); resolves once it is gone. */
  async killCompute(): Promise<void> {
    const child = this.compute;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    this.computePast += child.output();
    this.compute = null;
  }

  async stopCompute(): Promise<number | null> {
    return stopChild(this.compute);
  }

  /** True while the compute agent process runs. */
  computeRunning(): boolean {
    return this.compute !== null && this.compute.exitCode === null && this.compute.signalCode === null;
  }

  computeOutput(): string {
    return this.computePast + (this.compute?.output() ?? '');
  }

  /** How many lines of the compute agent's log match. */
  computeLogCount(re: RegExp): number {
    return this.computeOutput()
      .split('\n')
      .filter((l) => re.test(l)).length;
  }

  async waitComputeLog(re: RegExp, atLeast: number, ms = 60_000): Promise<void> {
    await until(this.compute!, async () => (this.computeLogCount(re) >= atLeast ? true : undefined), ms, `${atLeast}× ${re} in the compute agent's log`);
  }

  /** The agent's outbox, read-only (as `masakari monitors outbox` reads it, beside the running agent). */
  outboxRows(state: 'pending' | 'sent' | 'rejected'): OutboxRow[] {
    if (!existsSync(this.outboxPath)) return [];
    const s = new OutboxStore(this.outboxPath, { readonly: true });
    try {
      return s.list(state, 10_000);
    } finally {
      s.close();
    }
  }

  // ---- domains ----

  virsh(...args: string[]): string {
    return execFileSync('virsh', ['-q', '-c', this.lab.uri, ...args], { encoding: 'utf8', timeout: 30_000 });
  }

  defineDomain(name: string, uuid: string): void {
    const xml = join(this.dir, `${name}.xml`);
    writeFileSync(xml, tinyDomainXml({ name, uuid }));
    this.virsh('define', xml);
  }

  /** Starts the domain and returns its QEMU PID (from libvirt's pid file). */
  async startDomain(name: string): Promise<number> {
    this.virsh('start', name);
    return waitFor(async () => this.lab.qemuPid(name) ?? undefined, 30_000, `the QEMU pid of ${name}`);
  }

  domainState(name: string): string {
    return this.virsh('domstate', name).trim();
  }

  async waitDomainState(name: string, state: string, ms = 30_000): Promise<void> {
    await waitFor(async () => (this.domainState(name) === state ? true : undefined), ms, `${name} to be ${state}`);
  }

  // ---- teardown ----

  async stop(): Promise<void> {
    try {
      await this.stopCompute().catch(() => undefined);
      await this.stopController().catch(() => undefined);
    } finally {
      try {
        await this.lab.stop();
      } finally {
        if (process.env.MASAKARI_KEEP_LAB !== '1') rmSync(this.dir, { recursive: true, force: true });
      }
    }
  }
}
