// The real OpenStack masakari-api (Debian's python3-masakari 14.0.2) as a peer for delivery tests: noauth2,
// SQLite, and oslo.messaging's in-memory fake:// transport, so no RabbitMQ and no engine are needed (the API's
// cast to the engine goes nowhere). Hosts are written straight into its database, because creating them through
// the API would ask Nova whether they exist.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort } from './helpers.ts';

const PYTHON = '/usr/bin/python3';

/** True when Debian's masakari Python package can be imported (the API's own code). */
export function masakariApiAvailable(): Promise<boolean> {
  return new Promise((resolve) =>
    execFile(PYTHON, ['-c', 'import masakari.cmd.api, masakari.cmd.manage'], { timeout: 60_000 }, (err) => resolve(!err)),
  );
}

const PASTE = `[composite:masakari_api]
use = call:masakari.api.urlmap:urlmap_factory
/: versions
/v1: v1

[composite:v1]
use = call:masakari.api.auth:pipeline_factory_v1
noauth2 = request_id faultwrap noauth2 router
keystone = request_id faultwrap noauth2 router

[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory

[filter:faultwrap]
paste.filter_factory = masakari.api.openstack:FaultWrapper.factory

[filter:noauth2]
paste.filter_factory = masakari.api.auth:NoAuthMiddleware.factory

[app:router]
paste.app_factory = masakari.api.openstack.ha:APIRouterV1.factory

[app:versions]
paste.app_factory = masakari.api.openstack.ha.versions:Versions.factory
`;

// masakari 14.0.2 with oslo.messaging 14: the notifier rebuilds the request context without read_deleted and
// masakari then refuses None, so every create answers 500. Default it before the API starts (nothing installed
// is modified).
const LAUNCHER = `import sys
from masakari import context

_original = context.RequestContext.from_dict.__func__


def _from_dict(cls, values, **kwargs):
    if values.get('read_deleted') is None:
        values = dict(values, read_deleted='no')
    return _original(cls, values, **kwargs)


context.RequestContext.from_dict = classmethod(_from_dict)

from masakari.cmd.api import main  # noqa: E402

sys.exit(main())
`;

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
  writeFileSync(join(dir, 'api-paste.ini'), PASTE);
  writeFileSync(join(dir, 'run-api.py'), LAUNCHER);
  writeFileSync(
    conf,
    [
      '[DEFAULT]',
      'auth_strategy = noauth2',
      'masakari_api_listen = 127.0.0.1',
      `masakari_api_listen_port = ${port}`,
      'masakari_api_workers = 1',
      `api_paste_config = ${join(dir, 'api-paste.ini')}`,
      'transport_url = fake://',
      `log_file = ${join(dir, 'api.log')}`,
      '[database]',
      `connection = sqlite:///${join(dir, 'masakari.db')}`,
      '[taskflow]',
      `connection = sqlite:///${join(dir, 'taskflow.db')}`,
      '[oslo_concurrency]',
      `lock_path = ${join(dir, 'lock')}`,
      '',
    ].join('\n'),
  );
  await run(['-c', `import sys; from masakari.cmd.manage import main; sys.argv = ['masakari-manage', '--config-file', '${conf}', 'db', 'sync']; main()`], 120_000);

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
  const child: ChildProcess = spawn(PYTHON, [join(dir, 'run-api.py'), '--config-file', conf], { detached: true, stdio: 'ignore' });
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
