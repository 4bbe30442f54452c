// The real masakari-api 14.0.2 with a database to import from (`masakari db import-masakari`): its [database] and
// [taskflow] connections point at the given URL (SQLite file or MariaDB through mysql+pymysql://, as devstack sets
// both to the same database), and stand-in-nova.py answers the Nova check masakari-api makes before it creates a
// host, so segments and hosts are created through Masakari's own API. Notifications go through its API too
// (oslo.messaging's fake:// transport: no engine, they stay `new`); other states and progress details need the
// engine, which this lab does not run: the test sets them with SQL and with taskflow-progress.py (taskflow's own
// persistence code, as the engine would). Processes in their own groups, stopped by PID.

import { join } from 'node:path';
import { PEER_DIR, dbSync, freePort, python, spawnGroup, waitHttp, writeApiConf } from './api-process.ts';

export { python };

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

/**
 * `taskflow` is [taskflow] connection (default: the same database). Debian 12's python3-taskflow 5.0.0 lacks its
 * alembic directory, so taskflow can create its tables only on SQLite (where it skips alembic): with MariaDB the
 * test keeps the taskflow tables in a SQLite file, which masakari.conf allows, and imports with --taskflow-url.
 */
export async function startImportPeer(dir: string, connection: string, taskflow = connection): Promise<ImportPeer> {
  const [port, novaPort] = [await freePort(), await freePort()];
  const conf = writeApiConf(dir, {
    port,
    database: connection,
    taskflow,
    // Where masakari-api asks Nova whether a host exists: the stand-in Nova.
    defaults: [
      'os_privileged_user_name = masakari',
      'os_privileged_user_password = secret',
      'os_privileged_user_tenant = service',
      `os_privileged_user_auth_url = http://127.0.0.1:${novaPort}/v3`,
      'nova_catalog_admin_info = compute:nova:publicURL',
      'os_region_name = RegionOne',
    ],
  });
  await dbSync(conf);

  const nova = spawnGroup([join(PEER_DIR, 'stand-in-nova.py'), '--port', String(novaPort), '--log', join(dir, 'nova.log')], join(dir, 'nova.log'));
  const api = spawnGroup([join(PEER_DIR, 'run-masakari.py'), 'api', '--config-file', conf], join(dir, 'api.log'));
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
