// Agent heartbeats on MySQL/MariaDB: the latest one per host (one row, replaced).

import { toStoredHeartbeat } from '../sql/heartbeats.ts';
import { us } from '../sql/rows.ts';
import type { HeartbeatStore } from '../types.ts';
import type { Db } from './connection.ts';
import type { HeartbeatRow } from './schema.ts';

export function heartbeatRepo(db: Db): HeartbeatStore {
  return {
    recordHeartbeat: async (hb, receivedAt) => {
      await db.run(
        `INSERT INTO agent_heartbeats (host, received_at, body) VALUES (?, ?, ?)
         ON DUPLICATE KEY UPDATE received_at = VALUES(received_at), body = VALUES(body)`,
        [hb.host, us(receivedAt), JSON.stringify(hb)],
      );
    },
    listHeartbeats: async () => (await db.rows<HeartbeatRow>('SELECT * FROM agent_heartbeats ORDER BY host')).map(toStoredHeartbeat),
  };
}
