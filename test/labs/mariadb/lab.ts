// A private MariaDB server for tests: its own datadir in a fresh mkdtemp directory, a random loopback port, the
// unix socket inside that directory, stopped by PID (never by name). Nothing of the machine's own MariaDB is used:
// `--no-defaults` keeps /etc/mysql out of it.
//
// Set-up: `mariadb-install-db` creates the system tables with a password-less root reachable only through the
// socket; we then create a user with a random password for TCP, so the tests exercise a real
// mysql://user:password@127.0.0.1:port/db URL.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { haveCommand } from '../../support/components.ts';

const run = promisify(execFile);

export const MARIADB_COMPONENT = 'MariaDB server (Debian packages mariadb-server mariadb-client)';

/** True when this machine can start a private MariaDB (the binaries are installed). */
export function mariadbAvailable(): boolean {
  return (haveCommand('mariadbd') || existsSync('/usr/sbin/mariadbd')) && haveCommand('mariadb-install-db');
}

const asRoot = () => process.getuid?.() === 0;

function mariadbdPath(): string {
  return existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd';
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, release it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export class MariaDbLab {
  readonly dir: string;
  readonly socket: string;
  readonly user = 'masakari';
  readonly password = `pw-${randomBytes(6).toString('hex')}`;
  port = 0;
  private child: ChildProcess | null = null;
  private admin: mysql.Pool | null = null;
  private dbCounter = 0;

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, 'mysqld.sock');
  }

  /** Installs a datadir, starts mariadbd and waits until it answers (a few seconds). */
  static async start(opts: { readyTimeoutMs?: number } = {}): Promise<MariaDbLab> {
    const lab = new MariaDbLab(mkdtempSync(join(tmpdir(), 'masakari-mariadb-')));
    try {
      await lab.boot(opts.readyTimeoutMs ?? 60_000);
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  private get datadir(): string {
    return join(this.dir, 'data');
  }

  private async boot(readyTimeoutMs: number): Promise<void> {
    mkdirSync(this.datadir);
    await run(
      'mariadb-install-db',
      ['--no-defaults', `--datadir=${this.datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...(asRoot() ? ['--user=root'] : [])],
      { timeout: 120_000 },
    );
    this.port = await freePort();
    await this.startServer(readyTimeoutMs);
    await this.admin!.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [this.user, this.password]);
    await this.admin!.query(`GRANT ALL PRIVILEGES ON *.* TO ?@'127.0.0.1'`, [this.user]);
  }

  /** Starts mariadbd on the existing datadir and port; resolves when it accepts connections. */
  private async startServer(readyTimeoutMs: number): Promise<void> {
    const log = openSync(join(this.dir, 'mariadbd.log'), 'a');
    try {
      // mariadbd runs under a small bash watchdog whose stdin is a pipe from this process: when the test process
      // ends in any way (even SIGKILL), the pipe closes and the watchdog stops the server, so no orphan is left.
      this.child = spawn(
        'bash',
        [
          '-c',
          // (bash gives background jobs /dev/null as stdin unless redirected: hence fd 3.)
          'exec 3<&0; "$@" </dev/null & pid=$!; echo $pid > "$WATCHDOG_PIDFILE"; (cat <&3 >/dev/null; kill -TERM $pid 2>/dev/null) & exec 3<&-; wait $pid',
          'mariadb-watchdog',
          mariadbdPath(),
          '--no-defaults',
          `--datadir=${this.datadir}`,
          `--socket=${this.socket}`,
          `--port=${this.port}`,
          '--bind-address=127.0.0.1',
          `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
          '--skip-name-resolve',
          '--skip-log-bin',
          // Small and quiet: tests share two cores with everything else.
          '--innodb-buffer-pool-size=32M',
          '--innodb-log-file-size=16M',
          '--performance-schema=OFF',
          '--max-connections=200',
          // Durability as in production (the default, spelled out): every commit is on disk.
          '--innodb-flush-log-at-trx-commit=1',
          ...(asRoot() ? ['--user=root'] : []),
        ],
        { stdio: ['pipe', log, log], env: { ...process.env, WATCHDOG_PIDFILE: join(this.dir, 'server.pid') } },
      );
    } finally {
      closeSync(log);
    }
    const child = this.child;
    let exited = false;
    child.once('exit', () => (exited = true));

    const end = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exited) throw new Error(`mariadb lab: mariadbd exited during start-up:\n${this.logTail()}`);
      try {
        const c = await mysql.createConnection({ socketPath: this.socket, user: 'root' });
        await c.end();
        break;
      } catch {
        if (Date.now() > end) throw new Error(`mariadb lab: not ready after ${readyTimeoutMs} ms:\n${this.logTail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.admin = mysql.createPool({ socketPath: this.socket, user: 'root', connectionLimit: 2 });
  }

  /** Kills mariadbd with SIGKILL (a crash: no shutdown, InnoDB recovers from its redo log at the next start). */
  async crash(): Promise<void> {
    const child = this.child;
    const pid = this.serverPid();
    if (!child || pid === null) throw new Error('mariadb lab: not running');
    const done = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    process.kill(pid, 'SIGKILL');
    await done; // the watchdog exits with the server
    this.child = null;
    const admin = this.admin;
    this.admin = null;
    await admin?.end().catch(() => {});
    rmSync(join(this.dir, 'server.pid'), { force: true });
  }

  /** Starts the server again on the same datadir and port (after crash()). */
  async restart(readyTimeoutMs = 60_000): Promise<void> {
    if (this.child) throw new Error('mariadb lab: still running');
    await this.startServer(readyTimeoutMs);
  }

  /** A new, empty database; returns its mysql:// URL (user and password URL-encoded). */
  async createDatabase(prefix = 'masakari'): Promise<string> {
    if (!this.admin) throw new Error('mariadb lab: not started');
    const name = `${prefix}_${process.pid}_${++this.dbCounter}`;
    await this.admin.query(`CREATE DATABASE \`${name}\``);
    return this.url(name);
  }

  url(database: string): string {
    return `mysql://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  /** Runs SQL as root over the socket (test set-up and inspection). */
  async adminQuery(sql: string, params: unknown[] = []): Promise<unknown> {
    if (!this.admin) throw new Error('mariadb lab: not started');
    const [rows] = await this.admin.query(sql, params);
    return rows;
  }

  /** PID of mariadbd itself (from the watchdog's pid file), or null. */
  serverPid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.dir, 'server.pid'), 'utf8').trim());
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(join(this.dir, 'mariadbd.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops mariadbd (SIGTERM, SIGKILL after 20 s) and removes the directory. Safe to call twice. */
  async stop(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    if (admin) await admin.end().catch(() => {});
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin?.end(); // the watchdog sends mariadbd SIGTERM (a clean shutdown) and exits with it
      const timer = setTimeout(() => {
        const pid = this.serverPid();
        try {
          if (pid) process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
        child.kill('SIGKILL');
      }, 20_000);
      await done;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
