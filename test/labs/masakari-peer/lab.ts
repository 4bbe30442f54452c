// The real OpenStack masakari-api (Debian's python3-masakari 14.0.2) alone, for tests: noauth2, SQLite, and
// oslo.messaging's in-memory fake:// transport, so no RabbitMQ and no engine are needed (the API's cast to the
// engine goes nowhere). Hosts are written straight into its database, because creating them through the API would
// ask Nova whether they exist. The whole peer (engine, RabbitMQ, stand-in Nova) is start.sh's job.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PEER_DIR, dbSync, freePort, python, spawnGroup, waitHttp, writeApiConf } from './api-process.ts';

/** True when Debian's masakari Python package can be imported (the API's own code). */
export function masakariApiAvailable(): Promise<boolean> {
  return python(['-c', 'import masakari.cmd.api, masakari.cmd.manage'], 60_000).then(
    () => true,
    () => false,
  );
}

export interface MasakariPeer {
  endpoint: string;
  addHost(name: string): void;
  stop(): Promise<void>;
}

export async function startMasakariPeer(dir: string): Promise<MasakariPeer> {
  const port = await freePort();
  const conf = writeApiConf(dir, { port, database: `sqlite:///${join(dir, 'masakari.db')}`, taskflow: `sqlite:///${join(dir, 'taskflow.db')}` });
  await dbSync(conf);

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

  // The same launcher (with its in-memory fix for 14.0.2) and WSGI pipeline as start.sh.
  const api = spawnGroup([join(PEER_DIR, 'run-masakari.py'), 'api', '--config-file', conf]);
  const stop = async () => {
    db.close();
    await api.stop();
  };
  try {
    await waitHttp(`http://127.0.0.1:${port}/`, api.child, `masakari-api (see ${join(dir, 'api.log')})`, 120_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint: `http://127.0.0.1:${port}/v1`, addHost, stop };
}
