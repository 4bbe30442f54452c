// `masakari db purge` on MySQL: the same rows as in SQLite go (soft-deleted segments and hosts, finished
// notifications with their tasks, vmoves and host-recovery rows, expired host leases), at most `maxRows` per table
// per call (negative or infinite = no limit).
//
// Unlike SQLite (one short write lock), a MySQL purge runs beside live controllers. So notifications go in batches
// of BATCH, each its own short transaction: the ids are picked and row-locked (FOR UPDATE), then their children and
// they are deleted. A crash in between loses nothing: the next purge finds the rest. (MySQL also cannot use LIMIT
// in an IN subquery, nor delete from a table it selects from, so the ids travel through the client anyway.)

import { FINAL_STATUSES } from '../../domain/model.ts';
import { us } from '../sql/rows.ts';
import type { PurgeStore } from '../types.ts';
import type { Db } from './connection.ts';

const BATCH = 500;

export function purgeRepo(db: Db): PurgeStore {
  return {
    purge: async (olderThan, maxRows) => {
      const cutoff = us(olderThan);
      const unlimited = !(Number.isFinite(maxRows) && maxRows >= 0);
      let budget = unlimited ? Infinity : Math.floor(maxRows);
      const counts = { failover_segments: 0, hosts: 0, notifications: 0, workflow_tasks: 0, vmoves: 0, host_recovery_claims: 0 };

      while (budget > 0) {
        const take = Math.min(BATCH, budget);
        // Counts come back from the transaction, so a deadlock retry of it cannot count twice.
        const b = await db.tx(async (c) => {
          const uuids = (
            await c.rows<{ uuid: string }>(
              `SELECT uuid FROM notifications
               WHERE (deleted = 1 AND deleted_at < ?) OR (status IN (?) AND COALESCE(updated_at, created_at) < ?)
               ORDER BY id LIMIT ? FOR UPDATE`,
              [cutoff, FINAL_STATUSES, cutoff, take],
            )
          ).map((r) => r.uuid);
          if (!uuids.length) return { n: 0, tasks: 0, vmoves: 0, claims: 0 };
          const del = async (sql: string) => (await c.run(sql, [uuids])).affectedRows;
          const tasks = await del('DELETE FROM workflow_tasks WHERE notification_uuid IN (?)');
          const vmoves = await del('DELETE FROM vmoves WHERE notification_uuid IN (?)');
          const claims = await del('DELETE FROM host_recovery_claims WHERE notification_uuid IN (?)');
          const n = await del('DELETE FROM notifications WHERE uuid IN (?)');
          return { n, tasks, vmoves, claims };
        });
        counts.notifications += b.n;
        counts.workflow_tasks += b.tasks;
        counts.vmoves += b.vmoves;
        counts.host_recovery_claims += b.claims;
        budget -= b.n;
        if (b.n < take) break;
      }
      // Leases that expired before the cutoff: their engine is long gone.
      counts.host_recovery_claims += (await db.run('DELETE FROM host_recovery_claims WHERE expires_at < ?', [cutoff])).affectedRows;

      const limit = unlimited ? '' : ` LIMIT ${Math.floor(maxRows)}`;
      counts.hosts = (await db.run(`DELETE FROM hosts WHERE deleted = 1 AND deleted_at < ? ORDER BY id${limit}`, [cutoff])).affectedRows;
      // A segment goes only once no host row (live or not yet purged) points at it.
      counts.failover_segments = (
        await db.run(
          `DELETE FROM failover_segments
           WHERE deleted = 1 AND deleted_at < ?
             AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.failover_segment_id = failover_segments.uuid)
           ORDER BY id${limit}`,
          [cutoff],
        )
      ).affectedRows;
      return counts;
    },
  };
}
