// Agent heartbeats on SQLite: the latest one per host (one row, replaced).

import { toStoredHeartbeat } from '../sql/heartbeats.ts';
import { us } from '../sql/rows.ts';
import type { HeartbeatStore } from '../types.ts';
import type { Connection } from './connection.ts';
import type { HeartbeatRow } from './schema.ts';

export function heartbeatRepo(conn: Connection): HeartbeatStore {
  return {
    recordHeartbeat: (hb, receivedAt) =>
      conn.write(() => {
        conn
          .stmt(
            `INSERT INTO agent_heartbeats (host, received_at, body) VALUES (?, ?, ?)
             ON CONFLICT (host) DO UPDATE SET received_at = excluded.received_at, body = excluded.body`,
          )
          .run(hb.host, us(receivedAt), JSON.stringify(hb));
      }),
    listHeartbeats: async () => conn.stmt<HeartbeatRow>('SELECT * FROM agent_heartbeats ORDER BY host').all().map(toStoredHeartbeat),
  };
}
