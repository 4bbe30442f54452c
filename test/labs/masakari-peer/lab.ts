// The real OpenStack masakari-api (Debian's python3-masakari 14.0.2) alone, for tests: noauth2, SQLite, and
// oslo.messaging's in-memory fake:// transport, so no RabbitMQ and no engine are needed (the API's cast to the
// engine goes nowhere). Hosts are written straight into its database, because creating them through the API would
// ask Nova whether they exist. The whole peer (engine, RabbitMQ, stand-in Nova) is start.sh's job.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const PYTHON = '/usr/bin/python3';
// The same WSGI pipeline and launcher (with its in-memory fix for 14.0.2) as start.sh.
const API_PASTE = join(import.meta.dirname, 'api-paste.ini');
const LAUNCHER = join(import.meta.dirname, 'run-masakari.py');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** True when Debian's masakari Python package can be imported (the API's own code). */
export function masakariApiAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile(PYTHON, ['-c', 'import masakari.cmd.api, masakari.cmd.manage'], { timeout: 60_000 }, (err) => resolve(!err)));
}

export interface MasakariPeer {
  endpoint: string;
  addHost(name: string): void;
  stop(): Promise<void>;
}

function run(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(PYTHON, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, _out, stderr) =>
      err ? reject(new Error(`${args.join(' ')}: ${err.message}\n${stderr.slice(-2000)}`)) : resolve(),
    ),
  );
}

export async function startMasakariPeer(dir: string): Promise<MasakariPeer> {
  mkdirSync(join(dir, 'lock'), { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'masakari.conf');
  writeFileSync(
    conf,
    [
      '[DEFAULT]',
      'auth_strategy = noauth2',
      'masakari_api_listen = 127.0.0.1',
      `masakari_api_listen_port = ${port}`,
      'masakari_api_workers = 1',
      `api_paste_config = ${API_PASTE}`,
      'transport_url = fake://',
      `log_file = ${join(dir, 'api.log')}`,
      // Masakari logs in to Nova with this plugin even under noauth2 (not reached here: hosts go into the database).
      '[keystone_authtoken]',
      'auth_type = password',
      '[database]',
      `connection = sqlite:///${join(dir, 'masakari.db')}`,
      '[taskflow]',
      `connection = sqlite:///${join(dir, 'taskflow.db')}`,
      '[oslo_concurrency]',
      `lock_path = ${join(dir, 'lock')}`,
      '',
    ].join('\n'),
  );
  await run(
    ['-c', `import sys; from masakari.cmd.manage import main; sys.argv = ['masakari-manage', '--config-file', '${conf}', 'db', 'sync']; main()`],
    120_000,
  );

  const db = new Database(join(dir, 'masakari.db'));
  const segment = '5e1e7a0c-7d0a-4f55-9a55-1c4b1c6a0001';
  db.prepare(
    `INSERT INTO failover_segments (created_at, deleted, uuid, name, service_type, recovery_method, enabled)
     VALUES (datetime('now'), 0, ?, 'seg-peer', 'COMPUTE', 'auto', 1)`,
  ).run(segment);
  let hostSeq = 0;
  const addHost = (name: string) => {
    const uuid = `5e1e7a0c-7d0a-4f55-9a55-1c4b1c6b${String(++hostSeq).padStart(4, '0')}`;
    db.prepare(
      `INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance)
       VALUES (datetime('now'), 0, ?, ?, 0, 'COMPUTE', 'SSH', ?, 0)`,
    ).run(uuid, name, segment);
  };

  // Its own process group, so that stop() ends the API and the worker it forks together.
  const child: ChildProcess = spawn(PYTHON, [LAUNCHER, 'api', '--config-file', conf], { detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    db.close();
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
  const endpoint = `http://127.0.0.1:${port}/v1`;
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`masakari-api exited with ${child.exitCode}: see ${join(dir, 'api.log')}`);
      const up = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`masakari-api did not answer within 120 s: see ${join(dir, 'api.log')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, addHost, stop };
}
