// `masakari db purge`: hard-deletes what nobody can see any more (soft-deleted segments and hosts) and notifications
// that reached a final state long ago, with their workflow tasks and vmoves. At most `maxRows` rows per table per
// call (a negative or infinite maxRows means no limit), so a huge backlog can be purged in bounded steps.
// Host-recovery leases that expired before the cutoff go too (their engine is long gone).

import { FINAL_STATUSES } from '../../domain/model.ts';
import type { PurgeStore } from '../types.ts';
import type { Connection } from './connection.ts';
import { us } from '../sql/rows.ts';

const FINAL_SQL = FINAL_STATUSES.map((s) => `'${s}'`).join(', ');

export function purgeRepo(conn: Connection): PurgeStore {
  return {
    // Its own IMMEDIATE transaction (not a group-commit batch); the change stamp moves whatever it removed.
    purge: async (olderThan, maxRows) => {
      const cutoff = us(olderThan);
      const limit = Number.isFinite(maxRows) && maxRows >= 0 ? Math.floor(maxRows) : -1; // SQLite: LIMIT -1 = none
      try {
        return purgeNow(conn, cutoff, limit);
      } finally {
        conn.noteWrite();
      }
    },
  };
}

function purgeNow(conn: Connection, cutoff: number, limit: number): Record<string, number> {
  return conn.db
    .transaction(() => {
      // Notifications first: pick the ids once, then their children, then them.
      conn.stmt('CREATE TEMP TABLE IF NOT EXISTS purge_notifications (uuid TEXT PRIMARY KEY)').run();
      conn.stmt('DELETE FROM temp.purge_notifications').run();
      conn
        .stmt(
          `INSERT INTO temp.purge_notifications (uuid)
           SELECT uuid FROM notifications
           WHERE (deleted = 1 AND deleted_at < ?)
              OR (status IN (${FINAL_SQL}) AND COALESCE(updated_at, created_at) < ?)
           ORDER BY id LIMIT ?`,
        )
        .run(cutoff, cutoff, limit);
      const inPurge = 'notification_uuid IN (SELECT uuid FROM temp.purge_notifications)';
      const workflowTasks = conn.stmt(`DELETE FROM workflow_tasks WHERE ${inPurge}`).run().changes;
      const vmoves = conn.stmt(`DELETE FROM vmoves WHERE ${inPurge}`).run().changes;
      // Host-recovery rows of purged notifications, and leases that expired before the cutoff (a crashed engine's).
      const hostRecoveryClaims = conn.stmt(`DELETE FROM host_recovery_claims WHERE ${inPurge} OR expires_at < ?`).run(cutoff).changes;
      const notifications = conn.stmt('DELETE FROM notifications WHERE uuid IN (SELECT uuid FROM temp.purge_notifications)').run().changes;
      conn.stmt('DELETE FROM temp.purge_notifications').run();

      const hosts = conn
        .stmt(`DELETE FROM hosts WHERE id IN (SELECT id FROM hosts WHERE deleted = 1 AND deleted_at < ? ORDER BY id LIMIT ?)`)
        .run(cutoff, limit).changes;
      // A segment goes only once no host row (live or not yet purged) points at it.
      const failoverSegments = conn
        .stmt(
          `DELETE FROM failover_segments WHERE id IN (
             SELECT s.id FROM failover_segments s
             WHERE s.deleted = 1 AND s.deleted_at < ?
               AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.failover_segment_id = s.uuid)
             ORDER BY s.id LIMIT ?)`,
        )
        .run(cutoff, limit).changes;
      return {
        failover_segments: failoverSegments,
        hosts,
        notifications,
        workflow_tasks: workflowTasks,
        vmoves,
        host_recovery_claims: hostRecoveryClaims,
      };
    })
    .immediate();
}
