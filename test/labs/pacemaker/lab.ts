// The project's Pacemaker lab for tests: a real Corosync + Pacemaker cluster of 3 nodes, each in its own network
// namespace (pid/mount/uts namespaces too), with STONITH through fence_ipmilan against one simulated IPMI BMC
// (ipmi_sim) per node. A BMC's power-off kills its node's namespace init (the node dies at once); power-on starts
// it again. Namespace names carry a per-run prefix, so labs never clash; teardown() (also run at process exit)
// kills every process by its recorded PID and deletes the namespaces. README.md in this folder has the by-hand use.

import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { haveCommand } from '../../support/components.ts';
import { PacemakerDriver, DEFAULT_CRM_MON_COMMAND } from '../../../src/drivers/cluster/pacemaker/pacemaker-driver.ts';
import type { ClusterSnapshot } from '../../../src/core/ports/cluster.ts';
import { realEnv } from '../../../src/core/env.ts';
import { silentLogger } from '../../../src/core/log.ts';
import { HostMonitor } from '../../../src/core/monitors/host/host-monitor.ts';
import type { NotificationDraft } from '../../../src/core/ports/notify.ts';

const HERE = new URL('.', import.meta.url).pathname;
const script = (name: string) => join(HERE, name);

/** Why the lab cannot run here, or null when it can. */
export function pacemakerLabMissing(): string | null {
  const cmds = ['corosync', 'pacemakerd', 'crm_mon', 'cibadmin', 'crm_attribute', 'ipmi_sim', 'ipmitool', 'fence_ipmilan', 'nsenter', 'unshare', 'ip', 'pgrep'];
  const missing = cmds.filter((c) => !haveCommand(c));
  if (missing.length) return `commands missing: ${missing.join(' ')}`;
  if (userInfo().uid !== 0) return 'must run as root (network namespaces)';
  try {
    execFileSync('id', ['hacluster'], { stdio: 'ignore' });
  } catch {
    return 'user hacluster missing (Debian package pacemaker)';
  }
  return null;
}

export const PCMK_REMOTED = `${process.env.PCMK_REMOTE_ROOT ?? '/opt/pacemaker-remote'}/usr/sbin/pacemaker-remoted`;

/** Why the remote node cannot run here (pacemaker-remoted unpacked by .ci/install.d/pacemaker.sh), or null. */
export function pacemakerRemoteMissing(): string | null {
  return existsSync(PCMK_REMOTED) ? null : `${PCMK_REMOTED} missing (.ci/install.d/pacemaker.sh unpacks pacemaker-remote)`;
}

/** A cluster node (1..3, corosync members) or the pacemaker-remote node. */
export type NodeKey = 1 | 2 | 3 | 'r1';
const dirOf = (k: NodeKey) => (k === 'r1' ? 'r1' : `n${k}`);
const bmcPort = (k: NodeKey) => (k === 'r1' ? 6234 : 6230 + k);

/**
 * Tears down labs whose test process died without its exit hook (SIGKILL, a runner timeout): their namespaces and
 * daemons would otherwise stay forever. A lab is stale when the PID in its `owner` file no longer runs.
 */
function sweepStaleLabs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('masakari-pcmk-')) continue;
    const dir = join(tmpdir(), name);
    try {
      const owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
      const ns = readFileSync(join(dir, 'ns'), 'utf8').trim();
      try {
        process.kill(owner, 0);
        continue; // its test still runs
      } catch {
        // owner gone: stale
      }
      execFileSync('bash', [script('teardown.sh')], { env: { ...process.env, LAB: dir, NS: ns }, stdio: 'ignore', timeout: 30_000 });
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // not a lab of ours, or half made: leave it
    }
  }
}

const live = new Set<PacemakerLab>();
process.on('exit', () => {
  for (const lab of live) lab.teardownSync();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PacemakerLab {
  readonly dir: string;
  /** Prefix of this lab's namespaces: `${ns}-sw`, `${ns}-n1`..`-n3`. */
  readonly ns: string;
  readonly bmcPassword = randomBytes(6).toString('hex');
  private torn = false;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'masakari-pcmk-'));
    this.ns = `mkp${randomBytes(3).toString('hex')}`;
  }

  get env(): Record<string, string> {
    return { LAB: this.dir, NS: this.ns };
  }

  private run(file: string, args: string[] = [], timeoutMs = 60_000, extraEnv: Record<string, string> = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'bash',
        [script(file), ...args],
        { env: { ...process.env, ...this.env, ...extraEnv }, timeout: timeoutMs, killSignal: 'SIGKILL' },
        (err, stdout, stderr) => {
          if (err) return reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
          resolve(stdout);
        },
      );
    });
  }

  /**
   * Network, BMCs and nodes up, cluster quorate with 3 members, fencing configured and its devices started; with
   * `remote`, also the pacemaker-remote node remote1 (online in the cluster) with its own BMC and fence device.
   */
  async start(opts: { remote?: boolean; timeoutMs?: number; hostAddresses?: string[] } = {}): Promise<void> {
    if (!this.networkUp) await this.startNetwork(opts.hostAddresses);
    await this.startCluster(opts);
  }

  private networkUp = false;

  /**
   * The network alone (bridge, node namespaces), so a composing lab can start services on `hostAddresses` (root
   * namespace addresses on the bridge, e.g. 10.99.0.100) before the nodes. start() calls it when it was not called.
   */
  async startNetwork(hostAddresses: string[] = []): Promise<void> {
    sweepStaleLabs();
    live.add(this);
    const d = this.dir;
    writeFileSync(join(d, 'owner'), String(process.pid));
    mkdirSync(join(d, 'etc-pacemaker'), { recursive: true });
    mkdirSync(join(d, 'bmc'), { recursive: true });
    writeFileSync(join(d, 'ns'), this.ns);
    writeFileSync(join(d, 'bmc', 'password'), this.bmcPassword, { mode: 0o600 });
    copyFileSync(script('corosync.conf.tmpl'), join(d, 'corosync.conf'));
    // Shared authkey (pacemaker-remote needs it; the daemons check it exists with these owners).
    const key = join(d, 'etc-pacemaker', 'authkey');
    writeFileSync(key, randomBytes(4096), { mode: 0o640 });
    const hacluster = Number(execFileSync('id', ['-u', 'hacluster']).toString().trim());
    const haclient = Number(execFileSync('id', ['-g', 'hacluster']).toString().trim());
    chownSync(key, hacluster, haclient);
    chownSync(join(d, 'etc-pacemaker'), hacluster, haclient);
    chmodSync(join(d, 'etc-pacemaker'), 0o750);
    chmodSync(d, 0o755); // the daemons (user hacluster) reach their bind-mounted directories through it

    await this.run('netns-up.sh', [], 60_000, { HOST_ADDRS: hostAddresses.join(' ') });
    this.networkUp = true;
  }

  /** BMCs and nodes (after startNetwork), until quorate with fencing configured: see start(). */
  async startCluster(opts: { remote?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    for (const n of [1, 2, 3]) await this.run('bmc-start.sh', [String(n)]);
    for (const n of [1, 2, 3]) await this.run('node-start.sh', [String(n)]);
    if (opts.remote) {
      await this.run('bmc-start.sh', ['r1']);
      await this.run('remote-start.sh');
    }
    const deadline = Date.now() + timeoutMs;
    await this.waitFor(
      async () => {
        const s = await this.snapshot(1);
        return s.quorate && s.nodes.filter((x) => x.online && x.type === 'member').length === 3;
      },
      'a quorate cluster with 3 online members',
      deadline - Date.now(),
    );
    await this.run('load-cib.sh');
    await this.waitFor(
      async () =>
        ((await this.onNode(1, ['crm_mon', '-1', '--output-as=xml'])).match(/id="fence-\w+"[^>]*role="Started"/g) ?? []).length === (opts.remote ? 4 : 3),
      'every fence device started',
      deadline - Date.now(),
    );
    if (opts.remote) {
      await this.waitFor(async () => (await this.snapshot(1)).nodes.some((x) => x.name === 'remote1' && x.online), 'remote1 online', deadline - Date.now());
    }
  }

  /** argv that runs a command inside node N's namespaces (needs this.env). */
  onNodeArgv(n: number, argv: string[]): string[] {
    return [script('on-node.sh'), String(n), ...argv];
  }

  onNode(n: number, argv: string[], timeoutMs = 30_000): Promise<string> {
    return this.run('on-node.sh', [String(n), ...argv], timeoutMs);
  }

  /** The real driver the host monitor and the fence gate use, reading crm_mon inside node N. */
  driver(n: number): PacemakerDriver {
    return new PacemakerDriver({ command: this.onNodeArgv(n, DEFAULT_CRM_MON_COMMAND), env: this.env, timeoutMs: 30_000 });
  }

  snapshot(n: number): Promise<ClusterSnapshot> {
    return this.driver(n).snapshot();
  }

  /** PID of node N's namespace init, or null when the node is off. */
  initPid(n: NodeKey): number | null {
    const f = join(this.dir, dirOf(n), 'launcher.pid');
    if (!existsSync(f)) return null;
    try {
      const out = execFileSync('pgrep', ['-P', readFileSync(f, 'utf8').trim()])
        .toString()
        .trim()
        .split('\n')[0];
      return out ? Number(out) : null;
    } catch {
      return null; // pgrep exits 1 when there is no child
    }
  }

  nodeIsOn(n: NodeKey): boolean {
    return this.initPid(n) !== null;
  }

  /** A sudden node death (kernel panic, power cut): every process of the node dies at once. */
  killNode(n: NodeKey): void {
    const pid = this.initPid(n);
    if (pid === null) throw new Error(`${dirOf(n)} is already off`);
    process.kill(pid, 'SIGKILL');
  }

  /** A clean shutdown of node N's cluster stack (pacemakerd -S, then corosync): the node leaves, not fails. */
  shutdownNode(n: 1 | 2 | 3): void {
    const pid = this.initPid(n);
    if (pid === null) throw new Error(`n${n} is already off`);
    process.kill(pid, 'SIGTERM'); // node-inner.sh's trap stops Pacemaker, then corosync, then exits
  }

  /** IPMI to node N's BMC, from the BMC network (what an operator or a fencer does). */
  ipmi(n: NodeKey, ...cmd: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'ip',
        ['netns', 'exec', `${this.ns}-sw`, 'ipmitool', '-I', 'lanplus', '-C', '3', '-H', '10.99.0.254', '-p', String(bmcPort(n)), '-U', 'admin', '-E', ...cmd],
        { env: { ...process.env, IPMI_PASSWORD: this.bmcPassword }, timeout: 30_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`ipmitool ${cmd.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout)),
      );
    });
  }

  /** A dead BMC: fencing of node N cannot succeed until bmcStart(n). */
  bmcStop(n: NodeKey): void {
    const pid = Number(readFileSync(join(this.dir, 'bmc', `${dirOf(n)}.pid`), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
  }

  async bmcStart(n: NodeKey): Promise<void> {
    await this.run('bmc-start.sh', [String(n)]);
  }

  /** Cuts (down) or restores (up) node N's only network link: a partition isolating it. */
  async link(n: number, state: 'up' | 'down'): Promise<void> {
    await this.run('link.sh', [`n${n}`, state]);
  }

  /** Polls `check` every `everyMs` until it is true; throws naming `what` after `timeoutMs`. Errors count as false. */
  async waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs: number, everyMs = 500): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        if (await check()) return;
      } catch (e) {
        last = ` (last error: ${(e as Error).message.slice(0, 300)})`;
      }
      if (Date.now() > end) throw new Error(`pacemaker lab: no ${what} within ${Math.round(timeoutMs / 1000)} s${last}`);
      await sleep(everyMs);
    }
  }

  /** Logs worth reading when a test failed: each node's pacemaker log tail. */
  logTail(n: number, lines = 40): string {
    const f = join(this.dir, `n${n}`, 'var-log-pacemaker', 'pacemaker.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
  }

  async teardown(): Promise<void> {
    if (this.torn) return;
    await this.run('teardown.sh', [], 30_000).catch(() => undefined);
    this.finish();
  }

  teardownSync(): void {
    if (this.torn) return;
    try {
      execFileSync('bash', [script('teardown.sh')], { env: { ...process.env, ...this.env }, stdio: 'ignore', timeout: 30_000 });
    } catch {
      // best effort at exit
    }
    this.finish();
  }

  private finish(): void {
    this.torn = true;
    live.delete(this);
    if (!process.env.KEEP_PCMK_LAB) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The real host monitor as the e2e test and the benchmark run it: reading crm_mon inside node N, a 500 ms interval,
 * acting on a state stable over 2 samples, every draft handed to `submit`.
 */
export function labHostMonitor(lab: PacemakerLab, node: number, submit: (draft: NotificationDraft) => Promise<void>): HostMonitor {
  return new HostMonitor({
    driver: lab.driver(node),
    localNode: `node${node}`,
    intervalMs: 500,
    samples: 2,
    restrictToRemotes: false,
    offlineWithoutFencing: 'UNKNOWN',
    env: realEnv,
    log: silentLogger,
    sink: { submit },
  });
}
