// The whole cloud on one machine, as operators deploy it (issue 15): the Pacemaker lab's three nodes
// (test/labs/pacemaker: namespaces, Corosync/Pacemaker, ipmi_sim BMCs, fence_ipmilan) are also the Nova compute hosts
// of the OpenStack lab (test/labs/openstack, started with no fake host of its own and listening on the bridge).
// Inside each node run a nova-compute (fake driver, host = nodeN) and our agent (`masakari --role=compute`, the built
// bundle); two `masakari --role=controller` processes (Keystone auth, Nova driver, IPMI fencing of every node,
// Pacemaker's fence history as evidence) share one MariaDB (test/labs/mariadb). Every role reads a configuration file
// rendered from the templates beside this file (controller.yaml.tmpl, compute.yaml.tmpl, process_list.yaml.tmpl).
//
//   root namespace: 10.99.0.100 OpenStack APIs + RabbitMQ, 10.99.0.101 controller A, 10.99.0.102 controller B
//        │ veth
//   $NS-sw br0 ── 10.99.0.254 BMCs (UDP 6231-6233)
//        ├── $NS-n1 10.99.0.1: corosync, pacemakerd, nova-compute (host node1), masakari --role=compute
//        ├── $NS-n2 10.99.0.2: ...
//        └── $NS-n3 10.99.0.3: ...
//
// The agents find the controller through the `instance-ha` endpoint of the Keystone catalog (controller A's address:
// the lab has no load balancer). stop() (also run at process exit) ends everything by PID.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { join } from 'node:path';
import { PacemakerLab, pacemakerLabMissing } from '../pacemaker/lab.ts';
import { labUnavailableReason, startLab, type OpenStackLab } from '../openstack/lab.ts';
import { MariaDbLab, mariadbAvailable } from '../mariadb/lab.ts';
import { freePort } from '../../e2e/allinone-lab.ts';
import { repoRoot } from '../../support/cli.ts';
import { OutboxStore, type OutboxRow } from '../../../src/core/delivery/outbox-store.ts';
import { deepMerge } from '../../../src/core/config/load.ts';

const HERE = new URL('.', import.meta.url).pathname;

export const CLOUD_LAB_COMPONENT = 'cloud lab: Pacemaker lab + OpenStack lab + MariaDB (root, .ci/install.d/{pacemaker,openstack,mariadb}.packages)';

/** Why the lab cannot run here, or null. */
export function cloudLabMissing(): string | null {
  return pacemakerLabMissing() ?? labUnavailableReason() ?? (mariadbAvailable() ? null : 'MariaDB server missing');
}

export const NODES = [1, 2, 3] as const;
export type NodeN = (typeof NODES)[number];
export const SERVICES_IP = '10.99.0.100';
export const CONTROLLER_IPS = ['10.99.0.101', '10.99.0.102'] as const;

/** Fills `${NAME}` placeholders of a template beside this file; an unknown placeholder is an error. */
export function render(template: string, vars: Record<string, string | number>): string {
  return readFileSync(join(HERE, template), 'utf8').replace(/\$\{([A-Z_]+)\}/g, (_, k: string) => {
    if (!(k in vars)) throw new Error(`${template}: no value for \${${k}}`);
    return String(vars[k]);
  });
}

type Proc = ChildProcess & { out: string };

function spawnLogged(cmd: string, args: string[], env: Record<string, string | undefined>): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: false }) as Proc;
  child.out = '';
  const keep = (d: Buffer) => {
    child.out += d.toString();
    if (child.out.length > 400_000) child.out = child.out.slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

const alive = (p: Proc | null | undefined): boolean => !!p && p.exitCode === null && p.signalCode === null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = ` (last error: ${(e as Error).message.slice(0, 400)})`;
    }
    if (Date.now() > end) throw new Error(`cloud lab: no ${what} within ${Math.round(timeoutMs / 1000)} s${last}`);
    await sleep(everyMs);
  }
}

/** A notification as GET /v1/notifications lists it. */
export interface ApiNotification {
  notification_uuid: string;
  type: string;
  status: string;
  source_host_uuid: string;
  created_at: string;
  generated_time: string;
  payload: Record<string, unknown>;
}

export interface HostFailureRun {
  notification: ApiNotification;
  killedAt: number;
  /** Pacemaker's completion time of the fencing (whole seconds: crm_mon's resolution); null if not in the history. */
  fencedAt: number | null;
  reportedAt: number;
  evacuationsStartedAt: number | null;
  allActiveAt: number;
}

/** Nova and Masakari print UTC times without a zone. */
const utc = (t: string) => (/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`);

export interface CloudLabOptions {
  /** Keystone token lifetime (s) for every token of the lab; default Keystone's 3600. */
  tokenExpirationS?: number;
  /** engine.claim_lease_seconds of both controllers. */
  leaseSeconds?: number;
}

/** Settings deep-merged into the rendered configuration files (bench/cloud's profiles). */
export interface ConfigOverrides {
  controller?: Record<string, unknown>;
  agent?: Record<string, unknown>;
}

/** The rendered YAML with overrides applied (comments are lost then; without overrides the file is the template's). */
function withOverrides(rendered: string, over: Record<string, unknown> | undefined): string {
  if (!over || Object.keys(over).length === 0) return rendered;
  return stringifyYaml(deepMerge(parseYaml(rendered) as Record<string, unknown>, over));
}

/**
 * Controllers of labs whose test process died without its exit hook (SIGKILL, a runner timeout): they run in the root
 * namespace, so nothing else ends them (the other labs sweep their own leftovers). Their PIDs are in DIR/pids.
 */
function sweepStaleLabs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('masakari-cloud-')) continue;
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
    } catch {
      continue; // no owner yet: a lab being made (or not ours)
    }
    try {
      process.kill(owner, 0);
      continue; // its test still runs
    } catch {
      // owner gone: stale
    }
    for (const f of existsSync(join(dir, 'pids')) ? readdirSync(join(dir, 'pids')) : []) {
      try {
        process.kill(Number(readFileSync(join(dir, 'pids', f), 'utf8')), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const live = new Set<CloudLab>();
process.on('exit', () => {
  for (const lab of live) lab.stopSync();
});

export class CloudLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'masakari-cloud-'));
  readonly pcmk = new PacemakerLab();
  readonly servicePassword = `svc-${randomBytes(6).toString('hex')}`;
  os!: OpenStackLab;
  db!: MariaDbLab;
  controllerPort = 0;
  databaseUrl = '';
  readonly bundle = join(this.dir, 'dist', 'masakari.mjs');
  private controllers: (Proc | null)[] = [null, null];
  private controllerPast = ['', ''];
  private agents = new Map<NodeN, Proc>();
  private agentPast = new Map<NodeN, string>();
  private stopped = false;

  constructor(readonly opts: CloudLabOptions = {}) {}

  // ------------------------------------------------------------------------------------------------ start

  async start(): Promise<void> {
    live.add(this);
    writeFileSync(join(this.dir, 'owner'), String(process.pid));
    sweepStaleLabs();
    mkdirSync(join(this.dir, 'pids'));
    const t0 = Date.now();
    const step = (s: string) => process.stderr.write(`[cloud lab ${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);
    await this.pcmk.startNetwork([SERVICES_IP, ...CONTROLLER_IPS]);
    step('network up');
    // The heavy parts in parallel: OpenStack (~60-100 s), the cluster (~25 s), MariaDB, the bundle.
    const [os] = await Promise.all([
      startLab({ computes: 0, ip: SERVICES_IP, ...(this.opts.tokenExpirationS ? { tokenExpirationS: this.opts.tokenExpirationS } : {}) }).then((x) => {
        step('openstack up');
        return x;
      }),
      this.pcmk.startCluster({ timeoutMs: 180_000 }).then(() => step('cluster quorate, fencing configured')),
      MariaDbLab.start().then((db) => {
        this.db = db;
        step('mariadb up');
      }),
      this.buildBundle(),
    ]);
    this.os = os;
    this.databaseUrl = await this.db.createDatabase('masakari_cloud');
    this.controllerPort = await freePort();
    await this.registerKeystone();
    step('keystone: service user and instance-ha endpoint');
    this.writeConfigs();
    await this.startController(0);
    await this.startController(1);
    step('controllers up');
    for (const n of NODES) await this.startNovaCompute(n);
    await this.waitComputeServices('up', [...NODES], 120_000);
    step('nova-compute up on every node');
    // After nova-compute: the hosts API checks that Nova knows a compute service of that name.
    await this.registerHosts();
    for (const n of NODES) this.startAgent(n);
    await this.waitAgentsHeartbeat();
    step('agents up');
  }

  private buildBundle(): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'build.ts'), '--outdir', join(this.dir, 'dist'), '--no-sea'],
        { cwd: repoRoot, timeout: 120_000 },
        (err, _o, stderr) => (err ? reject(new Error(`build of the bundle failed: ${stderr || err.message}`)) : resolve()),
      );
    });
  }

  // ------------------------------------------------------------------------------------------------ Keystone

  get keystoneUrl(): string {
    return this.os.authUrl;
  }

  /** A token (and the catalog) for `user` in `project`, straight from Keystone. */
  async token(user = 'admin', password = this.os.password, project = 'admin'): Promise<string> {
    const r = await fetch(`${this.keystoneUrl}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
          scope: { project: { name: project, domain: { id: 'default' } } },
        },
      }),
    });
    if (r.status !== 201) throw new Error(`keystone token for ${user}: HTTP ${r.status} ${await r.text()}`);
    return r.headers.get('x-subject-token')!;
  }

  private async ks<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.keystoneUrl}${path}`, {
      method,
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`keystone ${method} ${path}: HTTP ${r.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** What an operator does once: project service, user masakari (role admin there), the instance-ha endpoint. */
  private async registerKeystone(): Promise<void> {
    const t = await this.token();
    const project = await this.ks<{ project: { id: string } }>(t, 'POST', '/projects', { project: { name: 'service', domain_id: 'default' } });
    const user = await this.ks<{ user: { id: string } }>(t, 'POST', '/users', {
      user: { name: 'masakari', password: this.servicePassword, domain_id: 'default', default_project_id: project.project.id },
    });
    const roles = await this.ks<{ roles: { id: string; name: string }[] }>(t, 'GET', '/roles?name=admin');
    await this.ks(t, 'PUT', `/projects/${project.project.id}/users/${user.user.id}/roles/${roles.roles[0]!.id}`);
    const svc = await this.ks<{ service: { id: string } }>(t, 'POST', '/services', { service: { type: 'instance-ha', name: 'masakari' } });
    for (const itf of ['public', 'internal', 'admin']) {
      await this.ks(t, 'POST', '/endpoints', {
        endpoint: { service_id: svc.service.id, interface: itf, url: `${this.controllerUrl(0)}`, region_id: 'RegionOne' },
      });
    }
  }

  controllerUrl(i: 0 | 1): string {
    return `http://${CONTROLLER_IPS[i]}:${this.controllerPort}/v1`;
  }

  // ------------------------------------------------------------------------------------------------ configs

  controllerConfigPath(i: 0 | 1): string {
    return join(this.dir, `controller-${'ab'[i]}`, 'masakari.yaml');
  }

  nodeDir(n: NodeN): string {
    return join(this.dir, `node${n}`);
  }

  computeConfigPath(n: NodeN): string {
    return join(this.nodeDir(n), 'masakari.yaml');
  }

  outboxPath(n: NodeN): string {
    return join(this.nodeDir(n), 'outbox.sqlite');
  }

  private overrides: ConfigOverrides = {};

  /**
   * Rewrites every controller's and agent's configuration with `overrides` (replacing earlier ones) and restarts them
   * all: a different profile on the same lab (bench/cloud). Waits for every agent's next heartbeat.
   */
  async reconfigure(overrides: ConfigOverrides): Promise<void> {
    this.overrides = overrides;
    this.writeConfigs();
    await Promise.all([this.stopController(0), this.stopController(1)]);
    for (const n of NODES) await this.stopAgent(n);
    const before = await Promise.all(NODES.map((n) => this.heartbeatReceivedAt(n)));
    await this.startController(0);
    await this.startController(1);
    for (const n of NODES) this.startAgent(n);
    await waitUntil(
      'a heartbeat from every restarted agent',
      async () => (await Promise.all(NODES.map((n) => this.heartbeatReceivedAt(n)))).every((t, i) => t !== null && t > (before[i] ?? -1)),
      120_000,
      1000,
    );
  }

  private writeConfigs(): void {
    const crmMon = join(this.dir, 'crm-mon-any-node');
    writeFileSync(crmMon, `#!/bin/bash\nLAB=${this.pcmk.dir} exec ${join(HERE, 'crm-mon-any-node.sh')} "$@"\n`);
    chmodSync(crmMon, 0o755);
    const bmcPw = join(this.dir, 'bmc.password');
    writeFileSync(bmcPw, this.pcmk.bmcPassword, { mode: 0o600 });
    for (const i of [0, 1] as const) {
      mkdirSync(join(this.dir, `controller-${'ab'[i]}`), { recursive: true });
      writeFileSync(
        this.controllerConfigPath(i),
        withOverrides(
          render('controller.yaml.tmpl', {
            DATA_DIR: join(this.dir, `controller-${'ab'[i]}`),
            LISTEN: `${CONTROLLER_IPS[i]}:${this.controllerPort}`,
            KEYSTONE_URL: this.keystoneUrl,
            SERVICE_PASSWORD: this.servicePassword,
            DATABASE_URL: this.databaseUrl,
            OWNER_ID: `controller-${'ab'[i]}`,
            LEASE_SECONDS: this.opts.leaseSeconds ?? 30,
            BMC_PASSWORD_FILE: bmcPw,
            CRM_MON_ANY_NODE: crmMon,
          }),
          this.overrides.controller,
        ),
      );
    }
    for (const n of NODES) {
      const d = this.nodeDir(n);
      mkdirSync(join(d, 'nova', 'locks'), { recursive: true });
      writeFileSync(
        join(d, 'nova-compute.conf'),
        `[DEFAULT]\nhost = node${n}\nmy_ip = 10.99.0.${n}\nstate_path = ${join(d, 'nova')}\n[oslo_concurrency]\nlock_path = ${join(d, 'nova', 'locks')}\n`,
      );
      // Run inside the node (its namespaces): starts nova-compute detached; the node's death kills it.
      const start = join(d, 'start-nova-compute');
      writeFileSync(
        start,
        // Absolute paths: the process list matches the command line by the program's path.
        `#!/bin/bash\n# nova-compute of node${n} (fake driver), started inside the node's namespaces.\n` +
          `setsid nohup ${join(this.os.dir, 'bin', 'nova-compute')} --config-file ${join(this.os.dir, 'etc', 'nova', 'nova.conf')} --config-file ${join(d, 'nova-compute.conf')} ` +
          `--log-file ${join(d, 'nova-compute.log')} >>${join(d, 'nova-compute.out')} 2>&1 </dev/null &\n`,
      );
      chmodSync(start, 0o755);
      writeFileSync(
        join(d, 'process_list.yaml'),
        // The node's /proc shows only its own processes: the path alone names its nova-compute, and the notification
        // carries its last component (nova-compute), the service's binary in Nova.
        render('process_list.yaml.tmpl', { NOVA_COMPUTE_MATCH: join(this.os.dir, 'bin', 'nova-compute'), START_COMMAND: start }),
      );
      writeFileSync(
        this.computeConfigPath(n),
        withOverrides(
          render('compute.yaml.tmpl', {
            DATA_DIR: d,
            HOSTNAME: `node${n}`,
            KEYSTONE_URL: this.keystoneUrl,
            SERVICE_PASSWORD: this.servicePassword,
            PROCESS_LIST: join(d, 'process_list.yaml'),
          }),
          this.overrides.agent,
        ),
      );
    }
  }

  // ------------------------------------------------------------------------------------------------ controllers

  async startController(i: 0 | 1): Promise<void> {
    if (alive(this.controllers[i])) throw new Error(`controller ${i} already running`);
    const child = spawnLogged(process.execPath, [this.bundle, '--role=controller', '--config', this.controllerConfigPath(i)], { MASAKARI_KEEP_LAB: undefined });
    this.controllers[i] = child;
    writeFileSync(join(this.dir, 'pids', `controller-${'ab'[i]}`), String(child.pid));
    await waitUntil(
      `controller ${'ab'[i]} answering on ${this.controllerUrl(i)}`,
      async () => {
        if (!alive(child)) throw new Error(`controller exited (${child.exitCode ?? child.signalCode}):\n${child.out.slice(-3000)}`);
        const r = await fetch(`${this.controllerUrl(i)}/`).catch(() => null);
        return r !== null && r.status < 500;
      },
      60_000,
      200,
    );
  }

  /** SIGKILL (a crash) or SIGTERM; resolves once it exited. */
  async stopController(i: 0 | 1, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.controllers[i];
    if (!c || !alive(c)) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
    this.controllerPast[i] += c.out;
    this.controllers[i] = null;
    rmSync(join(this.dir, 'pids', `controller-${'ab'[i]}`), { force: true }); // never SIGKILL a recycled PID later
  }

  controllerOutput(i: 0 | 1): string {
    return this.controllerPast[i]! + (this.controllers[i]?.out ?? '');
  }

  /** Masakari API as the masakari service user (Keystone token), on controller `i`. */
  api<T>(method: string, path: string, body?: unknown, i: 0 | 1 = 0): Promise<T> {
    return this.serviceCall<T>('masakari', `${this.controllerUrl(i)}${path}`, 'instance-ha 1.1', method, body);
  }

  /** One JSON request as the masakari service user; the parsed body of a 2xx, else an error naming the call. */
  private async serviceCall<T>(service: string, url: string, version: string, method: string, body?: unknown): Promise<T> {
    const r = await fetch(url, {
      method,
      headers: { 'x-auth-token': await this.serviceToken(), 'content-type': 'application/json', 'OpenStack-API-Version': version },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${service} ${method} ${new URL(url).pathname}: HTTP ${r.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  private svcToken: { id: string; at: number } | null = null;
  private async serviceToken(): Promise<string> {
    const life = (this.opts.tokenExpirationS ?? 3600) * 1000;
    if (!this.svcToken || Date.now() - this.svcToken.at > life / 2) {
      this.svcToken = { id: await this.token('masakari', this.servicePassword, 'service'), at: Date.now() };
    }
    return this.svcToken.id;
  }

  segmentUuid = '';
  readonly hostUuids = new Map<NodeN, string>();

  private async registerHosts(): Promise<void> {
    const seg = await this.api<{ segment: { uuid: string } }>('POST', '/segments', {
      segment: { name: 'cloud-lab', recovery_method: 'auto', service_type: 'COMPUTE' },
    });
    this.segmentUuid = seg.segment.uuid;
    for (const n of NODES) {
      const h = await this.api<{ host: { uuid: string } }>('POST', `/segments/${this.segmentUuid}/hosts`, {
        host: { name: `node${n}`, type: 'COMPUTE', control_attributes: 'SSH' },
      });
      this.hostUuids.set(n, h.host.uuid);
    }
  }

  // ------------------------------------------------------------------------------------------------ nodes

  async startNovaCompute(n: NodeN): Promise<void> {
    await this.pcmk.onNode(n, [join(this.nodeDir(n), 'start-nova-compute')]);
  }

  /** PIDs (as this machine sees them) of node N's nova-compute, counting only processes in the node's PID namespace. */
  novaComputePids(n: NodeN): number[] {
    return this.pidsInNode(n, `--config-file ${this.nodeDir(n)}/nova-compute.conf`);
  }

  /** PIDs (as this machine sees them) of node N's processes whose command line contains `pattern`. */
  private pidsInNode(n: NodeN, pattern: string): number[] {
    const init = this.pcmk.initPid(n);
    if (init === null) return [];
    try {
      return execFileSync('pgrep', ['--ns', String(init), '--nslist', 'pid', '-f', '--', pattern])
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return []; // pgrep exits 1 when nothing matches
    }
  }

  /** SIGKILL node N's nova-compute (its agent stays alive). */
  killNovaCompute(n: NodeN): void {
    const pids = this.novaComputePids(n);
    if (!pids.length) throw new Error(`node${n} runs no nova-compute`);
    for (const p of pids) process.kill(p, 'SIGKILL');
  }

  /**
   * Cuts (`true`) or restores the way from node N to both controllers: blackhole routes to their addresses inside the
   * node's network namespace. Keystone (10.99.0.100) stays reachable, as when only the control nodes are away.
   */
  cutControllers(n: NodeN, cut: boolean): void {
    for (const ip of CONTROLLER_IPS) {
      execFileSync('ip', ['-n', `${this.pcmk.ns}-n${n}`, 'route', cut ? 'add' : 'del', 'blackhole', `${ip}/32`]);
    }
  }

  /** The agent's outbox on node N (read-only, beside the running agent). */
  outboxRows(n: NodeN, state: 'pending' | 'sent' | 'rejected'): OutboxRow[] {
    if (!existsSync(this.outboxPath(n))) return [];
    const s = new OutboxStore(this.outboxPath(n), { readonly: true });
    try {
      return s.list(state, 10_000);
    } finally {
      s.close();
    }
  }

  startAgent(n: NodeN): void {
    if (alive(this.agents.get(n))) throw new Error(`agent of node${n} already running`);
    const child = spawnLogged('bash', this.pcmk.onNodeArgv(n, [process.execPath, this.bundle, '--role=compute', '--config', this.computeConfigPath(n)]), {
      ...this.pcmk.env,
      MASAKARI_KEEP_LAB: undefined,
    });
    child.once('exit', () => this.agentPast.set(n, (this.agentPast.get(n) ?? '') + child.out));
    this.agents.set(n, child);
  }

  /** Stops node N's agent (SIGTERM to the agent inside the node, as its service manager would) and waits for it. */
  async stopAgent(n: NodeN): Promise<void> {
    const child = this.agents.get(n);
    if (!alive(child)) return;
    const exited = new Promise((r) => child!.once('exit', r));
    const pids = this.pidsInNode(n, `--config ${this.computeConfigPath(n)}`);
    for (const p of pids) process.kill(p, 'SIGTERM');
    if (pids.length === 0) child!.kill('SIGTERM');
    const t = setTimeout(() => child!.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
  }

  agentRunning(n: NodeN): boolean {
    return alive(this.agents.get(n));
  }

  agentOutput(n: NodeN): string {
    const c = this.agents.get(n);
    return (this.agentPast.get(n) ?? '') + (c && alive(c) ? c.out : '');
  }

  private async waitAgentsHeartbeat(): Promise<void> {
    await waitUntil(
      'a heartbeat from every agent at the controllers (agent_heartbeats)',
      async () => {
        for (const n of NODES) {
          if (!this.agentRunning(n)) throw new Error(`agent of node${n} exited:\n${this.agentOutput(n).slice(-3000)}`);
        }
        for (const n of NODES) if ((await this.heartbeatReceivedAt(n)) === null) return false;
        return true;
      },
      60_000,
    );
  }

  /** received_at of node N's latest heartbeat in the controllers' database (the store's unit), or null. */
  async heartbeatReceivedAt(n: NodeN): Promise<number | null> {
    const db = new URL(this.databaseUrl).pathname.slice(1);
    const rows = (await this.db.adminQuery(`SELECT received_at FROM \`${db}\`.agent_heartbeats WHERE host = ?`, [`node${n}`])) as { received_at: number }[];
    return rows.length ? Number(rows[0]!.received_at) : null;
  }

  /** expires_at of every Keystone token node N's agent was issued (its log), oldest first. */
  agentTokens(n: NodeN): number[] {
    return this.agentOutput(n)
      .split('\n')
      .filter((l) => l.includes('"keystone token issued"'))
      .map((l) => Date.parse(/"expiresAt":"([^"]+)"/.exec(l)?.[1] ?? ''))
      .filter((t) => !Number.isNaN(t));
  }

  // ------------------------------------------------------------------------------------------------ Nova

  nova<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.serviceCall<T>('nova', `${this.os.novaUrl}${path}`, 'compute 2.74', method, body);
  }

  async computeServices(): Promise<{ id: string; host: string; state: string; status: string; forced_down: boolean }[]> {
    return (
      await this.nova<{ services: { id: string; host: string; state: string; status: string; forced_down: boolean; binary: string }[] }>('GET', '/os-services')
    ).services.filter((s) => s.binary === 'nova-compute');
  }

  async waitComputeServices(state: 'up' | 'down', nodes: NodeN[], timeoutMs: number): Promise<void> {
    await waitUntil(
      `nova-compute ${state} on ${nodes.map((n) => `node${n}`).join(', ')}`,
      async () => {
        const s = await this.computeServices();
        const hyp = await this.nova<{ hypervisors: { hypervisor_hostname: string; state: string }[] }>('GET', '/os-hypervisors');
        return nodes.every(
          (n) =>
            s.some((x) => x.host === `node${n}` && x.state === state) &&
            (state === 'down' || hyp.hypervisors.some((h) => h.hypervisor_hostname === `node${n}` && h.state === 'up')),
        );
      },
      timeoutMs,
      1000,
    );
  }

  /** Boots `count` servers on node N (host on create, 2.74) and waits until all are ACTIVE there. */
  async bootServers(n: NodeN, count: number, prefix: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = await this.nova<{ server: { id: string } }>('POST', '/servers', {
        server: { name: `${prefix}-${i}`, imageRef: this.os.imageId, flavorRef: this.os.flavorId, networks: 'none', host: `node${n}` },
      });
      ids.push(r.server.id);
    }
    await waitUntil(
      `${count} servers ACTIVE on node${n}`,
      async () => {
        const all = await Promise.all(ids.map((id) => this.server(id)));
        const failed = all.filter((s) => s.status === 'ERROR');
        if (failed.length) {
          // Nova's fault says why (no valid host, a compute error...): worth more than the state alone.
          const faults = await Promise.all(
            failed.map(async (s) => ({ ...s, fault: (await this.nova<{ server: { fault?: unknown } }>('GET', `/servers/${s.id}`)).server.fault })),
          );
          throw new Error(`a server went ERROR: ${JSON.stringify(faults)}; compute services: ${JSON.stringify(await this.computeServices())}`);
        }
        return all.every((s) => s.status === 'ACTIVE' && s.host === `node${n}`);
      },
      240_000,
      1000,
    );
    return ids;
  }

  async server(id: string): Promise<{ id: string; status: string; host: string; task_state: string | null }> {
    const s = (await this.nova<{ server: Record<string, unknown> }>('GET', `/servers/${id}`)).server;
    return { id, status: s.status as string, host: s['OS-EXT-SRV-ATTR:host'] as string, task_state: (s['OS-EXT-STS:task_state'] as string | null) ?? null };
  }

  /** Deletes servers and waits until Nova no longer lists them. */
  async deleteServers(ids: string[]): Promise<void> {
    for (const id of ids) await this.nova('DELETE', `/servers/${id}`);
    await waitUntil(
      `${ids.length} servers deleted`,
      async () => {
        const left = await Promise.all(
          ids.map((id) =>
            this.nova<{ server: unknown }>('GET', `/servers/${id}`).then(
              () => id,
              () => null,
            ),
          ),
        );
        return left.every((x) => x === null);
      },
      120_000,
      1000,
    );
  }

  /** Evacuations Nova recorded for a server (instance actions named evacuate). */
  async evacuateActions(id: string): Promise<{ action: string; start_time: string }[]> {
    const r = await this.nova<{ instanceActions: { action: string; start_time: string }[] }>('GET', `/servers/${id}/os-instance-actions`);
    return r.instanceActions.filter((a) => a.action === 'evacuate');
  }

  // ------------------------------------------------------------------------------------------------ one host failure

  /**
   * Scenario 1 as the test and bench/cloud run it: kills node N hard (its PID 1) and waits until its host failure
   * notification is finished and every server in `ids` is ACTIVE elsewhere. Returns the chain's timestamps (ms since
   * the epoch): killed; fenced (Pacemaker's fence history, completion); reported (the notification's created_at);
   * evacuations started (Nova's first evacuate action of these servers); all ACTIVE (first poll that saw it).
   * Throws with the controllers' and agents' log tails when the notification ends in error or time runs out.
   */
  async hostFailure(n: NodeN, ids: string[], timeoutMs = 240_000): Promise<HostFailureRun> {
    const killedAt = Date.now();
    this.pcmk.killNode(n);
    const hostUuid = this.hostUuids.get(n);
    let notification: ApiNotification | undefined;
    let allActiveAt = 0;
    try {
      await waitUntil(
        `the host failure of node${n} finished, its servers ACTIVE elsewhere`,
        async () => {
          if (!notification || notification.status !== 'finished') {
            const all = (
              await this.api<{ notifications: ApiNotification[] }>('GET', '/notifications?sort_key=created_at&sort_dir=asc', undefined, this.apiController())
            ).notifications;
            const mine = all.filter(
              (x) => x.type === 'COMPUTE_HOST' && x.source_host_uuid === hostUuid && Date.parse(utc(x.generated_time)) >= killedAt - 2000,
            );
            if (mine.some((x) => x.status === 'error' || x.status === 'failed')) throw new Error(`notification ended badly: ${JSON.stringify(mine)}`);
            notification = mine.find((x) => x.status === 'finished') ?? mine[0];
          }
          if (notification?.status !== 'finished') return false;
          const servers = await Promise.all(ids.map((id) => this.server(id)));
          if (!servers.every((x) => x.status === 'ACTIVE' && x.host !== `node${n}`)) return false;
          allActiveAt = Date.now();
          return true;
        },
        timeoutMs,
        500,
      );
    } catch (e) {
      throw new Error(
        `${(e as Error).message}\n--- controller a:\n${this.controllerOutput(0).slice(-4000)}\n--- controller b:\n${this.controllerOutput(1).slice(-3000)}` +
          NODES.filter((x) => x !== n)
            .map((x) => `\n--- agent node${x}:\n${this.agentOutput(x).slice(-2000)}`)
            .join(''),
        { cause: e },
      );
    }
    const snap = await this.pcmk.snapshot(n === 1 ? 2 : 1);
    const fence = (snap.fenceHistory ?? []).find((f) => f.target === `node${n}` && f.status === 'success' && f.completed);
    const starts = (await Promise.all(ids.map((id) => this.evacuateActions(id)))).flat().map((a) => Date.parse(utc(a.start_time)));
    return {
      notification: notification!,
      killedAt,
      fencedAt: fence?.completed ? Date.parse(fence.completed) : null,
      reportedAt: Date.parse(utc(notification!.created_at)),
      evacuationsStartedAt: starts.length ? Math.min(...starts) : null,
      allActiveAt,
    };
  }

  /** The controller the test talks to: A unless it is down. */
  private apiController(): 0 | 1 {
    return alive(this.controllers[0]) ? 0 : 1;
  }

  // ------------------------------------------------------------------------------------------------ repair / stop

  /**
   * Brings a fenced node back as an operator does: power on through its BMC, wait for it to rejoin the cluster,
   * start nova-compute and the agent, enable the service (and clear forced-down), clear the host's maintenance.
   */
  async repairNode(n: NodeN): Promise<void> {
    await this.pcmk.ipmi(n, 'chassis', 'power', 'on');
    await this.pcmk.waitFor(
      async () => {
        const s = await this.pcmk.snapshot(n === 1 ? 2 : 1);
        return s.nodes.some((x) => x.name === `node${n}` && x.online);
      },
      `node${n} back in the cluster`,
      120_000,
    );
    if (this.novaComputePids(n).length === 0) await this.startNovaCompute(n);
    if (!this.agentRunning(n)) this.startAgent(n);
    const svc = (await this.computeServices()).find((s) => s.host === `node${n}`)!;
    // Nova refuses to force a host up while its evacuation migrations are `done`: the restarted nova-compute first
    // cleans up the evacuated servers' leftovers and marks them `completed`.
    await waitUntil(
      `node${n}'s compute service enabled and forced up`,
      async () => {
        await this.nova('PUT', `/os-services/${svc.id}`, { status: 'enabled', forced_down: false });
        return true;
      },
      120_000,
      2000,
    );
    await this.api('PUT', `/segments/${this.segmentUuid}/hosts/${this.hostUuids.get(n)}`, { host: { on_maintenance: false } });
    await this.waitComputeServices('up', [n], 120_000);
    await this.waitSchedulable(n);
  }

  /**
   * After a process failure (nova-compute killed, the node alive): start nova-compute again, enable its service and
   * take the host off maintenance (the engine puts a host on maintenance for a process failure, as Masakari does).
   */
  async repairNovaCompute(n: NodeN): Promise<void> {
    // Enabled first: the starting nova-compute then syncs its provider's status trait from an enabled service.
    const svc = (await this.computeServices()).find((s) => s.host === `node${n}`)!;
    await this.nova('PUT', `/os-services/${svc.id}`, { status: 'enabled' });
    if (this.novaComputePids(n).length === 0) await this.startNovaCompute(n);
    await this.api('PUT', `/segments/${this.segmentUuid}/hosts/${this.hostUuids.get(n)}`, { host: { on_maintenance: false } });
    await this.waitComputeServices('up', [n], 120_000);
    await this.waitSchedulable(n);
  }

  /**
   * Waits until Nova's scheduler may place servers on node N again. Enabling a service whose nova-compute is down (or
   * still starting) does not reach the compute host, so its resource provider may keep the COMPUTE_STATUS_DISABLED
   * trait (excluded by the scheduler's pre-filter: "No valid host") until nova-compute syncs it from the service's
   * status. Seen in CI: a boot on a node repaired just before failed at once.
   */
  async waitSchedulable(n: NodeN): Promise<void> {
    const hyps = await this.nova<{ hypervisors: { id: string; service: { host: string } }[] }>('GET', '/os-hypervisors/detail');
    const rp = hyps.hypervisors.find((h) => h.service.host === `node${n}`)?.id;
    if (!rp) throw new Error(`no hypervisor of node${n} in Nova`);
    // Placement listens at the OpenStack lab's port base + 778, Nova's API at + 774 (test/labs/openstack/start.sh).
    const nova = new URL(this.os.novaUrl);
    const placement = `${nova.protocol}//${nova.hostname}:${Number(nova.port) + 4}`;
    await waitUntil(
      `node${n}'s resource provider without the COMPUTE_STATUS_DISABLED trait`,
      async () => {
        const r = await this.serviceCall<{ traits: string[] }>('placement', `${placement}/resource_providers/${rp}/traits`, 'placement 1.6', 'GET');
        return !r.traits.includes('COMPUTE_STATUS_DISABLED');
      },
      150_000,
      1000,
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const a of this.agents.values()) if (alive(a)) a.kill('SIGKILL');
    await Promise.all([this.stopController(0, 'SIGKILL'), this.stopController(1, 'SIGKILL')]);
    await this.pcmk.teardown();
    this.os?.stop();
    await this.db?.stop();
    this.finish();
  }

  stopSync(): void {
    if (this.stopped) return;
    for (const a of this.agents.values()) if (alive(a)) a.kill('SIGKILL');
    for (const c of this.controllers) if (c && alive(c)) c.kill('SIGKILL');
    this.pcmk.teardownSync();
    this.os?.stop();
    this.finish();
  }

  private finish(): void {
    this.stopped = true;
    live.delete(this);
    if (!process.env.KEEP_CLOUD_LAB) rmSync(this.dir, { recursive: true, force: true });
  }
}
