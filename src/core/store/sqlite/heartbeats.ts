// Agent heartbeats on SQLite: the latest one per host (one row, replaced).

import { toStoredHeartbeat } from '../sql/heartbeats.ts';
import { us } from '../sql/rows.ts';
import type { HeartbeatStore } from '../types.ts';
import type { Connection } from './connection.ts';
import type { HeartbeatRow } from './schema.ts';

export function heartbeatRepo(conn: Connection): HeartbeatStore {
  return {
    // Its own small transaction, outside the group commit (which would also bump the change stamp): no cached API
    // response holds heartbeats, so a heartbeat every few seconds per host must not empty the GET cache
    // (src/core/api/response-cache.ts). Between group-commit batches no transaction is open on the connection.
    recordHeartbeat: async (hb, receivedAt) => {
      conn
        .stmt(
          `INSERT INTO agent_heartbeats (host, received_at, body) VALUES (?, ?, ?)
           ON CONFLICT (host) DO UPDATE SET received_at = excluded.received_at, body = excluded.body`,
        )
        .run(hb.host, us(receivedAt), JSON.stringify(hb));
    },
    listHeartbeats: async () => conn.stmt<HeartbeatRow>('SELECT * FROM agent_heartbeats ORDER BY host').all().map(toStoredHeartbeat),
  };
}
