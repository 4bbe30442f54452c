// A private RabbitMQ node for tests (Debian rabbitmq-server): its own node name, mnesia and log directories in a
// fresh mkdtemp directory (prefix obs-rabbit-), listening on a free loopback port, with its own epmd on another free
// port, and a user with a random password on its own vhost. Started the way the Masakari peer recipe starts its
// node (rabbitmq-server run directly, RABBITMQ_* environment), stopped by PID and its private epmd by its port —
// never by name. stop() and start() again keep the data directory, so a test can take the broker away and bring it
// back on the same port.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const RABBITMQ_COMPONENT = 'RabbitMQ server (Debian package rabbitmq-server)';
const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';

export function rabbitmqAvailable(): boolean {
  return existsSync(SERVER) && existsSync(CTL);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

export class RabbitLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'obs-rabbit-'));
  readonly user = 'masakari';
  readonly password = `pw-${randomBytes(6).toString('hex')}`;
  readonly vhost = 'obs';
  port = 0;
  private epmdPort = 0;
  private distPort = 0;
  private node = `obs${randomBytes(3).toString('hex')}@localhost`;
  private proc: ChildProcess | undefined;

  /** rabbit://user:pass@127.0.0.1:port/vhost, as oslo.messaging and our config take it. */
  get url(): string {
    return `rabbit://${this.user}:${this.password}@127.0.0.1:${this.port}/${this.vhost}`;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: this.dir,
      LANG: 'C.UTF-8',
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      ERL_EPMD_PORT: String(this.epmdPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(this.dir, 'rabbit.pid'),
      RABBITMQ_CTL_ERL_ARGS: '-proto_dist inet_tcp',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  /** Starts the node (first time: picks ports, creates the user and vhost). */
  async start(timeoutMs = 120_000): Promise<void> {
    const first = this.port === 0;
    if (first) {
      this.port = await freePort();
      this.epmdPort = await freePort();
      this.distPort = await freePort();
      mkdirSync(join(this.dir, 'log'), { recursive: true });
      mkdirSync(join(this.dir, 'mnesia'), { recursive: true });
      writeFileSync(join(this.dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${this.port}\nloopback_users = none\n`);
      writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    }
    const out = openSync(join(this.dir, 'server.out'), 'a');
    this.proc = spawn(SERVER, [], { env: this.env(), stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    const until = Date.now() + timeoutMs;
    while (!(await portOpen(this.port))) {
      if (this.proc.exitCode !== null) throw new Error(`rabbitmq-server exited (${this.proc.exitCode}): ${this.tail()}`);
      if (Date.now() > until) throw new Error(`rabbitmq did not listen on ${this.port}: ${this.tail()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await this.ctl(['await_startup']);
    if (first) {
      await this.ctl(['add_vhost', this.vhost]);
      await this.ctl(['add_user', this.user, this.password]);
      await this.ctl(['set_permissions', '-p', this.vhost, this.user, '.*', '.*', '.*']);
    }
  }

  ctl(args: string[]): Promise<{ stdout: string }> {
    return run(CTL, ['-n', this.node, ...args], { env: this.env(), timeout: 60_000 });
  }

  /** Stops the node (kills its process group) and waits until its port is closed; the data stays. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.pid === undefined) return;
    const exited = new Promise((r) => p.once('exit', r));
    try {
      process.kill(-p.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const t = setTimeout(() => {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 15_000);
    await exited;
    clearTimeout(t);
    while (await portOpen(this.port)) await new Promise((r) => setTimeout(r, 100));
  }

  /** Messages waiting in a queue (0 when it does not exist). */
  async queueDepth(queue: string): Promise<number> {
    const { stdout } = await this.ctl(['list_queues', '-p', this.vhost, '--quiet', '--no-table-headers', 'name', 'messages']);
    for (const line of stdout.split('\n')) {
      const [name, n] = line.trim().split(/\s+/);
      if (name === queue) return Number(n);
    }
    return 0;
  }

  /** Stops the node and its private epmd, and removes the directory. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.epmdPort) await run('epmd', ['-kill'], { env: { ...this.env() } }).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  tail(): string {
    try {
      return readFileSync(join(this.dir, 'server.out'), 'utf8').slice(-2000);
    } catch {
      return '';
    }
  }
}
