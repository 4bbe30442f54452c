// A private three-node MariaDB Galera cluster for tests. Each node is a mariadbd with the Debian galera-4 provider,
// running in its own network namespace (gal-<id>-n1..n3, 10.77.0.1..3) attached to a bridge in gal-<id>-sw, the same
// technique as the Pacemaker lab: cutting a node's veth at the bridge really partitions it, and the node that is left
// alone really loses quorum (non-Primary). Clients in the root namespace reach the nodes through their unix sockets
// (a unix socket belongs to the file system, not to a network namespace); socat forwards one loopback TCP port per
// node to that socket, so controllers use ordinary mysql://user:pass@127.0.0.1:PORT,... URLs.
//
// Bootstrap without state transfers: node 1 is installed and started alone as a new cluster, the users are created,
// it is stopped cleanly, and its datadir (with the cluster's uuid:seqno in grastate.dat) is copied to nodes 2 and 3;
// then node 1 bootstraps the cluster again and the others join it at the same position. rsync is configured as the
// state transfer method for a node that must resync later.
//
// Everything is stopped by PID (never by name); every process runs under a watchdog that stops it when the test
// process dies; a lab left behind by a killed test process (its owner PID gone) is swept by the next start().

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { haveCommand } from '../../support/components.ts';
import { freePort } from '../../chaos/helpers.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const GALERA_COMPONENT = 'MariaDB Galera cluster (Debian packages galera-4 mariadb-server socat rsync iproute2, root for network namespaces)';
export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';

/** Why the lab cannot run here, or null when it can. */
export function galeraLabMissing(): string | null {
  const missing = ['mariadbd', 'mariadb-install-db', 'socat', 'rsync', 'ip', 'nsenter']
    .filter((c) => !(haveCommand(c) || existsSync(`/usr/sbin/${c}`)))
    .map((c) => c);
  if (!existsSync(GALERA_PROVIDER)) missing.push(GALERA_PROVIDER);
  if (missing.length) return `missing: ${missing.join(' ')}`;
  if (userInfo().uid !== 0) return 'must run as root (network namespaces)';
  try {
    execFileSync('id', [DB_USER], { stdio: 'ignore' });
  } catch {
    return `user ${DB_USER} missing (Debian package mariadb-server)`;
  }
  return null;
}

export type NodeNo = 1 | 2 | 3;
export const NODES: NodeNo[] = [1, 2, 3];
/** The system account the nodes run as (Debian's mariadb-server creates it). */
const DB_USER = 'mysql';
const addr = (n: NodeNo) => `10.77.0.${n}`;
const mariadbd = () => (existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd');

// Runs "$@" in the background under bash; when this (test) process ends in any way, the stdin pipe closes and the
// watchdog sends SIGTERM (then SIGKILL after 20 s). The real PID goes to $WATCHDOG_PIDFILE.
const WATCHDOG =
  'exec 3<&0; "$@" </dev/null & pid=$!; echo $pid > "$WATCHDOG_PIDFILE"; ' +
  '(cat <&3 >/dev/null; kill -TERM $pid 2>/dev/null; sleep 20; kill -KILL $pid 2>/dev/null) & exec 3<&-; wait $pid';

function sweepStaleLabs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('gal-')) continue;
    const dir = join(tmpdir(), name);
    try {
      const owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
      const id = readFileSync(join(dir, 'id'), 'utf8').trim();
      try {
        process.kill(owner, 0);
        continue; // its test still runs
      } catch {
        /* owner gone: stale */
      }
      for (const f of readdirSync(dir)) {
        if (!f.endsWith('.pid')) continue;
        try {
          process.kill(Number(readFileSync(join(dir, f), 'utf8')), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      deleteNamespaces(id);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // not one of our labs, or half made: leave it
    }
  }
}

function deleteNamespaces(id: string): void {
  for (const n of ['n1', 'n2', 'n3', 'sw']) {
    try {
      execFileSync('ip', ['netns', 'del', `gal-${id}-${n}`], { stdio: 'ignore' });
    } catch {
      /* absent */
    }
  }
}

const live = new Set<GaleraLab>();
process.on('exit', () => {
  for (const lab of live) lab.teardownSync();
});

interface Proc {
  child: ChildProcess;
  pidFile: string;
}

export interface NodeStatus {
  /** wsrep_cluster_status: Primary, non-Primary, Disconnected. */
  cluster: string;
  /** wsrep_local_state_comment: Synced, Donor/Desynced, Joining, Initialized... */
  state: string;
  ready: boolean;
  size: number;
}

export class GaleraLab {
  readonly id = randomBytes(3).toString('hex').slice(0, 5);
  readonly dir: string;
  readonly user = 'masakari';
  readonly password = `pw-${randomBytes(6).toString('hex')}`;
  /** Loopback TCP port forwarded (socat) to node N's unix socket. */
  readonly ports = new Map<NodeNo, number>();
  private readonly servers = new Map<NodeNo, Proc>();
  private readonly forwarders = new Map<NodeNo, Proc>();
  private torn = false;
  private dbCounter = 0;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'gal-'));
  }

  /** Network, three nodes, users; resolves when all three are Synced in one Primary component of size 3 (~15-40 s). */
  static async start(opts: { timeoutMs?: number } = {}): Promise<GaleraLab> {
    sweepStaleLabs();
    const lab = new GaleraLab();
    live.add(lab);
    try {
      await lab.boot(opts.timeoutMs ?? 180_000);
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  ns(n: NodeNo | 'sw'): string {
    return `gal-${this.id}-${n === 'sw' ? 'sw' : `n${n}`}`;
  }
  socket(n: NodeNo): string {
    return join(this.dir, `n${n}`, 'mysqld.sock');
  }
  private datadir(n: NodeNo): string {
    return join(this.dir, `n${n}`, 'data');
  }

  private async boot(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    writeFileSync(join(this.dir, 'owner'), String(process.pid));
    writeFileSync(join(this.dir, 'id'), this.id);
    await this.netUp();
    for (const n of NODES) mkdirSync(this.datadir(n), { recursive: true });
    // The nodes run as the mysql user, as in production: the rsync state transfer starts an rsync daemon from the
    // joining mariadbd, and as root that daemon would drop to nobody and could not write the datadir.
    chmodSync(this.dir, 0o755);
    await run('chown', ['-R', `${DB_USER}:`, ...NODES.map((n) => join(this.dir, `n${n}`))]);
    await run(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${this.datadir(1)}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        `--user=${DB_USER}`,
        `--tmpdir=${join(this.dir, 'n1')}`,
      ],
      {
        timeout: 120_000,
      },
    );
    await run('chown', ['-R', `${DB_USER}:`, ...NODES.map((n) => join(this.dir, `n${n}`))]);
    // 1. Node 1 alone: a new cluster, where the users are created (replicated later by the copy of its datadir).
    await this.startServer(1, { newCluster: true });
    await this.waitFor(async () => (await this.status(1)).ready, 'node 1 ready', deadline);
    for (const host of ['localhost', '127.0.0.1', '%']) {
      await this.rootQuery(1, `CREATE USER ?@? IDENTIFIED BY ?`, [this.user, host, this.password]);
      await this.rootQuery(1, `GRANT ALL PRIVILEGES ON *.* TO ?@?`, [this.user, host]);
    }
    await this.stopServer(1);
    // 2. Same datadir (and grastate.dat position) on every node, without node 1's identity in the view state file.
    rmSync(join(this.datadir(1), 'gvwstate.dat'), { force: true });
    for (const n of [2, 3] as const) {
      rmSync(this.datadir(n), { recursive: true, force: true });
      cpSync(this.datadir(1), this.datadir(n), { recursive: true });
    }
    await run('chown', ['-R', `${DB_USER}:`, ...NODES.map((n) => join(this.dir, `n${n}`))]);
    // 3. Node 1 bootstraps again; 2 and 3 join at the same position (no state transfer).
    await this.startServer(1, { newCluster: true });
    await this.waitFor(async () => (await this.status(1)).ready, 'node 1 ready again', deadline);
    await Promise.all([this.startServer(2), this.startServer(3)]);
    await this.waitSynced(NODES, deadline - Date.now());
    for (const n of NODES) await this.startForwarder(n);
  }

  private async netUp(): Promise<void> {
    const sw = this.ns('sw');
    const ip = (...a: string[]) => run('ip', a);
    await ip('netns', 'add', sw);
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', sw, 'link', 'set', 'br0', 'up');
    await ip('-n', sw, 'link', 'set', 'lo', 'up');
    for (const n of NODES) {
      const ns = this.ns(n);
      await ip('netns', 'add', ns);
      // veth pairs are born in the root namespace (names unique there, <= 15 characters) and moved at once.
      const inner = `gal-${this.id}v${n}`;
      const outer = `gal-${this.id}p${n}`;
      await ip('link', 'add', inner, 'type', 'veth', 'peer', 'name', outer);
      await ip('link', 'set', inner, 'netns', ns);
      await ip('link', 'set', outer, 'netns', sw);
      await ip('-n', sw, 'link', 'set', outer, 'master', 'br0');
      await ip('-n', sw, 'link', 'set', outer, 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', inner, 'name', 'eth0');
      await ip('-n', ns, 'addr', 'add', `${addr(n)}/24`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    }
  }

  private spawnWatched(name: string, argv: string[]): Proc {
    const pidFile = join(this.dir, `${name}.pid`);
    rmSync(pidFile, { force: true });
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    try {
      const child = spawn('bash', ['-c', WATCHDOG, name, ...argv], { stdio: ['pipe', log, log], env: { ...process.env, WATCHDOG_PIDFILE: pidFile } });
      return { child, pidFile };
    } finally {
      closeSync(log);
    }
  }

  private serverArgs(n: NodeNo, newCluster: boolean): string[] {
    const provider = [
      'gcache.size=32M',
      // Small timeouts so that a dead or cut-off node is noticed within seconds (defaults: 5 s suspect, 15 s inactive).
      'evs.keepalive_period=PT0.5S',
      'evs.suspect_timeout=PT2S',
      'evs.inactive_timeout=PT4S',
      'evs.inactive_check_period=PT0.5S',
      'evs.install_timeout=PT4S',
      'evs.join_retrans_period=PT0.5S',
      `gmcast.listen_addr=tcp://${addr(n)}:4567`,
      `ist.recv_addr=${addr(n)}:4568`,
    ].join(';');
    return [
      'ip',
      'netns',
      'exec',
      this.ns(n),
      mariadbd(),
      '--no-defaults',
      `--datadir=${this.datadir(n)}`,
      `--socket=${this.socket(n)}`,
      `--pid-file=${join(this.dir, `n${n}`, 'mariadbd.pid')}`,
      '--port=3306',
      `--bind-address=${addr(n)}`,
      '--skip-name-resolve',
      // Its own temporary directory: two labs (or a lab and another MariaDB) never share temporary table names.
      `--tmpdir=${join(this.dir, `n${n}`)}`,
      `--user=${DB_USER}`,
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--performance-schema=OFF',
      '--max-connections=300',
      // What Galera requires (docs/ha.md, "Galera"): row-based write sets, interleaved auto-increment locks.
      '--binlog-format=ROW',
      '--innodb-autoinc-lock-mode=2',
      '--default-storage-engine=InnoDB',
      // Durability comes from the other nodes; a killed mariadbd (not a killed machine) loses nothing with 2.
      '--innodb-flush-log-at-trx-commit=2',
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      `--wsrep-cluster-address=gcomm://${NODES.map(addr).join(',')}`,
      `--wsrep-cluster-name=gal-${this.id}`,
      `--wsrep-node-name=n${n}`,
      `--wsrep-node-address=${addr(n)}`,
      '--wsrep-sst-method=rsync',
      '--wsrep-slave-threads=2',
      `--wsrep-provider-options=${provider}`,
      ...(newCluster ? ['--wsrep-new-cluster'] : []),
    ];
  }

  private async startServer(n: NodeNo, opts: { newCluster?: boolean } = {}): Promise<void> {
    const proc = this.spawnWatched(`n${n}`, this.serverArgs(n, opts.newCluster ?? false));
    this.servers.set(n, proc);
    const end = Date.now() + 120_000;
    for (;;) {
      if (proc.child.exitCode !== null) throw new Error(`galera lab: node ${n} exited during start-up:\n${this.logTail(`n${n}`)}`);
      try {
        const c = await mysql.createConnection({ socketPath: this.socket(n), user: 'root' });
        await c.end();
        return;
      } catch {
        if (Date.now() > end) throw new Error(`galera lab: node ${n} not answering:\n${this.logTail(`n${n}`)}`);
        await sleep(200);
      }
    }
  }

  private async stopServer(n: NodeNo): Promise<void> {
    const proc = this.servers.get(n);
    this.servers.delete(n);
    if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    const done = new Promise<void>((r) => proc.child.once('exit', () => r()));
    proc.child.stdin?.end(); // the watchdog sends SIGTERM: a clean shutdown
    await done;
  }

  private async startForwarder(n: NodeNo): Promise<void> {
    const port = this.ports.get(n) ?? (await freePort());
    this.ports.set(n, port);
    this.forwarders.set(n, this.spawnWatched(`fwd${n}`, ['socat', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${this.socket(n)}`]));
    const end = Date.now() + 20_000;
    for (;;) {
      try {
        const c = await mysql.createConnection({ host: '127.0.0.1', port, user: this.user, password: this.password });
        await c.end();
        return;
      } catch (e) {
        if (Date.now() > end) throw new Error(`galera lab: forwarder of node ${n} not working: ${(e as Error).message}`, { cause: e });
        await sleep(100);
      }
    }
  }

  private pidOf(name: string): number | null {
    try {
      const pid = Number(readFileSync(join(this.dir, `${name}.pid`), 'utf8').trim());
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /** mysql://user:pass@127.0.0.1:P1,127.0.0.1:P2,.../db with the nodes in the given order (the first is preferred). */
  url(database: string, order: NodeNo[] = NODES): string {
    const hosts = order.map((n) => `127.0.0.1:${this.ports.get(n)}`).join(',');
    return `mysql://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@${hosts}/${database}`;
  }

  /** A new, empty database (created through node 1, replicated to all); returns its name. */
  async createDatabase(prefix = 'masakari'): Promise<string> {
    const name = `${prefix}_${process.pid}_${++this.dbCounter}`;
    await this.rootQuery(this.anyPrimary(), `CREATE DATABASE \`${name}\``);
    return name;
  }

  private primaryHint: NodeNo = 1;
  private anyPrimary(): NodeNo {
    return this.primaryHint;
  }

  /** Runs SQL as root over node N's unix socket. */
  async rootQuery<R = unknown>(n: NodeNo, sql: string, params: unknown[] = []): Promise<R> {
    const c = await mysql.createConnection({ socketPath: this.socket(n), user: 'root', connectTimeout: 5000 });
    try {
      const [rows] = await c.query(sql, params);
      return rows as R;
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }

  /** Runs SQL as root on some node that is Primary now (for test inspection). */
  async query<R = unknown>(sql: string, params: unknown[] = []): Promise<R> {
    for (const n of NODES) {
      if (!this.servers.has(n)) continue;
      try {
        if ((await this.status(n)).cluster !== 'Primary') continue;
        return await this.rootQuerySynced<R>(n, sql, params);
      } catch {
        /* try the next one */
      }
    }
    throw new Error('galera lab: no Primary node answers');
  }

  private async rootQuerySynced<R>(n: NodeNo, sql: string, params: unknown[]): Promise<R> {
    const c = await mysql.createConnection({ socketPath: this.socket(n), user: 'root', connectTimeout: 5000 });
    try {
      await c.query('SET SESSION wsrep_sync_wait = 1');
      const [rows] = await c.query(sql, params);
      return rows as R;
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }

  async status(n: NodeNo): Promise<NodeStatus> {
    const rows = await this.rootQuery<{ Variable_name: string; Value: string }[]>(
      n,
      `SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_ready', 'wsrep_cluster_size')`,
    );
    const v = Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
    return {
      cluster: v.wsrep_cluster_status ?? '',
      state: v.wsrep_local_state_comment ?? '',
      ready: v.wsrep_ready === 'ON',
      size: Number(v.wsrep_cluster_size ?? 0),
    };
  }

  /** Waits until the given nodes are Synced, ready, in one Primary component of exactly that many nodes. */
  async waitSynced(nodes: NodeNo[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.waitFor(
      async () => {
        for (const n of nodes) {
          const s = await this.status(n);
          if (s.cluster !== 'Primary' || s.state !== 'Synced' || !s.ready || s.size !== nodes.length) return false;
        }
        return true;
      },
      `nodes ${nodes.join(',')} Synced in a Primary component of ${nodes.length}`,
      deadline,
    );
    this.primaryHint = nodes[0]!;
  }

  async waitFor(cond: () => Promise<boolean>, what: string, deadline: number): Promise<void> {
    let last = '';
    for (;;) {
      try {
        if (await cond()) return;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`galera lab: timed out waiting for ${what} ${last}`);
      await sleep(250);
    }
  }

  /** kill -9 node N's mariadbd (a crash; the others notice within a few seconds and go on as a cluster of two). */
  async killNode(n: NodeNo): Promise<void> {
    const proc = this.servers.get(n);
    const pid = this.pidOf(`n${n}`);
    if (!proc || pid === null) throw new Error(`galera lab: node ${n} is not running`);
    const done = new Promise<void>((r) => (proc.child.exitCode !== null ? r() : proc.child.once('exit', () => r())));
    process.kill(pid, 'SIGKILL');
    await done;
    this.servers.delete(n);
    if (this.primaryHint === n) this.primaryHint = NODES.find((x) => this.servers.has(x)) ?? 1;
  }

  /** Starts a killed node again; it rejoins (IST from a donor's gcache, or rsync SST). */
  async restartNode(n: NodeNo): Promise<void> {
    if (this.servers.has(n)) throw new Error(`galera lab: node ${n} still runs`);
    await this.startServer(n);
  }

  /** Cuts (down) or restores (up) node N's link at the bridge: a partition that leaves it alone, without quorum. */
  async link(n: NodeNo, state: 'up' | 'down'): Promise<void> {
    await run('ip', ['-n', this.ns('sw'), 'link', 'set', `gal-${this.id}p${n}`, state]);
    if (state === 'down' && this.primaryHint === n) this.primaryHint = NODES.find((x) => x !== n && this.servers.has(x)) ?? 1;
  }

  logTail(name: string, lines = 30): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), 'utf8')
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch {
      return '';
    }
  }

  /** Stops forwarders and servers (SIGTERM through the watchdogs), deletes the namespaces and the directory. */
  async stop(): Promise<void> {
    if (this.torn) return;
    const all = [...this.forwarders.values(), ...this.servers.values()];
    await Promise.all(
      all.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        const done = new Promise<void>((r) => p.child.once('exit', () => r()));
        p.child.stdin?.end();
        await done;
      }),
    );
    this.forwarders.clear();
    this.servers.clear();
    this.teardownSync();
  }

  /** Synchronous last resort (process exit): SIGKILL by recorded PID, namespaces and directory removed. */
  teardownSync(): void {
    if (this.torn) return;
    this.torn = true;
    live.delete(this);
    for (const name of ['fwd1', 'fwd2', 'fwd3', 'n1', 'n2', 'n3']) {
      const pid = this.pidOf(name);
      if (pid === null) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    deleteNamespaces(this.id);
    // GALERA_LAB_KEEP=1 keeps the directory (node logs) for a post-mortem.
    if (process.env.GALERA_LAB_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
