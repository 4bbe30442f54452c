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
  return haveCommand('mariadbd') || existsSync('/usr/sbin/mariadbd');
}

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

  private async boot(readyTimeoutMs: number): Promise<void> {
    const datadir = join(this.dir, 'data');
    mkdirSync(datadir);
    const asRoot = process.getuid?.() === 0;
    await run(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...(asRoot ? ['--user=root'] : []),
      ],
      { timeout: 120_000 },
    );
    this.port = await freePort();
    const log = openSync(join(this.dir, 'mariadbd.log'), 'a');
    try {
      this.child = spawn(
        mariadbdPath(),
        [
          '--no-defaults',
          `--datadir=${datadir}`,
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
          ...(asRoot ? ['--user=root'] : []),
        ],
        { stdio: ['ignore', log, log] },
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
    await this.admin.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [this.user, this.password]);
    await this.admin.query(`GRANT ALL PRIVILEGES ON *.* TO ?@'127.0.0.1'`, [this.user]);
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
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await done;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
