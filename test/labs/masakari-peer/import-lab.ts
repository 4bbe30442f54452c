// The real masakari-api 14.0.2 with a database to import from (`masakari db import-masakari`): its [database] and
// [taskflow] connections point at the given URL (SQLite file or MariaDB through mysql+pymysql://, as devstack sets
// both to the same database), and stand-in-nova.py answers the Nova check masakari-api makes before it creates a
// host, so segments and hosts are created through Masakari's own API. Notifications go through its API too
// (oslo.messaging's fake:// transport: no engine, they stay `new`); other states and progress details need the
// engine, which this lab does not run: the test sets them with SQL and with taskflow-progress.py (taskflow's own
// persistence code, as the engine would). Processes in their own groups, stopped by PID.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

const PYTHON = '/usr/bin/python3';
const HERE = import.meta.dirname;

async function freePort(): Promise<number> {
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

/** True when Debian's masakari and taskflow Python packages can be imported. */
export function masakariImportLabAvailable(): Promise<boolean> {
  return python(['-c', 'import masakari.cmd.api, masakari.cmd.manage, taskflow.persistence.backends, pymysql'], 60_000).then(
    () => true,
    () => false,
  );
}

export interface ImportPeer {
  /** http://127.0.0.1:PORT/v1 */
  endpoint: string;
  conf: string;
  /** Masakari's API with noauth2 (a project in the path is not needed: /v1/segments...). */
  api(method: string, path: string, body?: unknown, microversion?: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

function spawnGroup(args: string[], log: string): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn(PYTHON, args, { detached: true, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  writeFileSync(log, '', { flag: 'a' });
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

async function waitHttp(url: string, child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
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

/**
 * `taskflow` is [taskflow] connection (default: the same database). Debian 12's python3-taskflow 5.0.0 lacks its
 * alembic directory, so taskflow can create its tables only on SQLite (where it skips alembic): with MariaDB the
 * test keeps the taskflow tables in a SQLite file, which masakari.conf allows, and imports with --taskflow-url.
 */
export async function startImportPeer(dir: string, connection: string, taskflow = connection): Promise<ImportPeer> {
  mkdirSync(join(dir, 'lock'), { recursive: true });
  const [port, novaPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'masakari.conf');
  writeFileSync(
    conf,
    [
      '[DEFAULT]',
      'auth_strategy = noauth2',
      'masakari_api_listen = 127.0.0.1',
      `masakari_api_listen_port = ${port}`,
      'masakari_api_workers = 1',
      `api_paste_config = ${join(HERE, 'api-paste.ini')}`,
      'transport_url = fake://',
      `log_file = ${join(dir, 'api.log')}`,
      'os_privileged_user_name = masakari',
      'os_privileged_user_password = secret',
      'os_privileged_user_tenant = service',
      `os_privileged_user_auth_url = http://127.0.0.1:${novaPort}/v3`,
      'nova_catalog_admin_info = compute:nova:publicURL',
      'os_region_name = RegionOne',
      '[keystone_authtoken]',
      'auth_type = password',
      '[database]',
      `connection = ${connection}`,
      '[taskflow]',
      `connection = ${taskflow}`,
      '[oslo_concurrency]',
      `lock_path = ${join(dir, 'lock')}`,
      '',
    ].join('\n'),
  );
  // db sync also creates taskflow's tables in [taskflow] connection (Masakari's migration 006).
  await python(['-c', `import sys; from masakari.cmd.manage import main; sys.argv = ['masakari-manage', '--config-file', '${conf}', 'db', 'sync']; main()`]);

  const nova = spawnGroup([join(HERE, 'stand-in-nova.py'), '--port', String(novaPort), '--log', join(dir, 'nova.log')], join(dir, 'nova.log'));
  const api = spawnGroup([join(HERE, 'run-masakari.py'), 'api', '--config-file', conf], join(dir, 'api.log'));
  const stop = async () => {
    await api.stop();
    await nova.stop();
  };
  try {
    await waitHttp(`http://127.0.0.1:${novaPort}/v3`, nova.child, 'stand-in Nova', 60_000);
    await waitHttp(`http://127.0.0.1:${port}/`, api.child, `masakari-api (see ${join(dir, 'api.log')})`, 120_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}/v1`;
  return {
    endpoint,
    conf,
    api: async (method, path, body, microversion = '1.2') => {
      const res = await fetch(`${endpoint}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'OpenStack-API-Version': `instance-ha ${microversion}`, 'X-Auth-Project-Id': 'admin' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    stop,
  };
}
