// What both masakari-api labs share (lab.ts: SQLite, hosts written into the database; import-lab.ts: a database to
// import from, hosts created through the API): python3, free ports, the masakari.conf of an API that runs alone,
// `masakari-manage db sync`, processes in their own groups stopped by PID, and waiting for an HTTP answer.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
/** This folder: the WSGI pipeline (api-paste.ini), the launcher with its in-memory fix for 14.0.2, stand-ins. */
export const PEER_DIR = import.meta.dirname;

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function python(args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(PYTHON, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, out, stderr) =>
      err ? reject(new Error(`python3 ${args.slice(0, 2).join(' ')}: ${err.message}\n${stderr.slice(-3000)}`)) : resolve(out),
    ),
  );
}

export interface ApiConf {
  port: number;
  /** [database] connection. */
  database: string;
  /** [taskflow] connection. */
  taskflow: string;
  /** More [DEFAULT] lines (after the common ones). */
  defaults?: string[];
}

/**
 * Writes `dir`/masakari.conf for masakari-api alone: noauth2, one worker, oslo.messaging's in-memory fake://
 * transport (no RabbitMQ, no engine: the API's cast to the engine goes nowhere), its log in `dir`/api.log.
 * Returns the file's path.
 */
export function writeApiConf(dir: string, c: ApiConf): string {
  mkdirSync(join(dir, 'lock'), { recursive: true });
  const conf = join(dir, 'masakari.conf');
  writeFileSync(
    conf,
    [
      '[DEFAULT]',
      'auth_strategy = noauth2',
      'masakari_api_listen = 127.0.0.1',
      `masakari_api_listen_port = ${c.port}`,
      'masakari_api_workers = 1',
      `api_paste_config = ${join(PEER_DIR, 'api-paste.ini')}`,
      'transport_url = fake://',
      `log_file = ${join(dir, 'api.log')}`,
      ...(c.defaults ?? []),
      // Masakari logs in to Nova with this plugin even under noauth2.
      '[keystone_authtoken]',
      'auth_type = password',
      '[database]',
      `connection = ${c.database}`,
      '[taskflow]',
      `connection = ${c.taskflow}`,
      '[oslo_concurrency]',
      `lock_path = ${join(dir, 'lock')}`,
      '',
    ].join('\n'),
  );
  return conf;
}

/** `masakari-manage db sync`; it also creates taskflow's tables in [taskflow] connection (Masakari's migration 006). */
export async function dbSync(conf: string): Promise<void> {
  await python(['-c', `import sys; from masakari.cmd.manage import main; sys.argv = ['masakari-manage', '--config-file', '${conf}', 'db', 'sync']; main()`]);
}

/** A Python process in its own group, so that stop() ends it and the workers it forks together. */
export function spawnGroup(args: string[], log?: string): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(PYTHON, args, { detached: true, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  if (log) writeFileSync(log, '', { flag: 'a' });
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  return { child, stop };
}

export async function waitHttp(url: string, child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const up = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    );
    if (up) return;
    if (Date.now() > deadline) throw new Error(`${what} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
