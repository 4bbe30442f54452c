// The engine's bookkeeping: per-host recovery leases and persisted workflow task progress.

import { notificationNotFound, taskNotFound } from '../sql/errors.ts';
import { patchedTask, toTask, us } from '../sql/rows.ts';
import { FENCE_SQL, checkFence, fenceParams } from '../sql/fence.ts';
import type { EngineStore, LeaseFence } from '../types.ts';
import type { Connection } from './connection.ts';
import type { TaskRow } from './schema.ts';

export function engineRepo(conn: Connection): EngineStore {
  /** Inside a write's transaction: refuses it (LeaseLostError) unless the fence's owner still holds the claim. */
  const fenced = (fence: LeaseFence | undefined, now: Date) => {
    if (fence) checkFence(fence, conn.stmt(FENCE_SQL).run(...fenceParams(fence, now)).changes);
  };
  return {
    // One statement each: no savepoint needed (group-commit.ts run).
    claimHostRecovery: (hostName, notificationUuid, owner, leaseMs, now) =>
      conn.write(() => {
        const t = us(now);
        // Insert, or take over the row when its lease expired or it is already ours for this notification.
        const changes = conn
          .stmt(
            `INSERT INTO host_recovery_claims (recovery_key, notification_uuid, owner, expires_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (recovery_key) DO UPDATE SET
               notification_uuid = excluded.notification_uuid, owner = excluded.owner, expires_at = excluded.expires_at
             WHERE host_recovery_claims.expires_at < ?
                OR (host_recovery_claims.owner = excluded.owner AND host_recovery_claims.notification_uuid = excluded.notification_uuid)`,
          )
          .run(hostName, notificationUuid, owner, t + Math.round(leaseMs * 1000), t).changes;
        return changes === 1;
      }, false),

    releaseHostRecovery: (hostName, notificationUuid) =>
      conn.write(() => {
        conn.stmt('DELETE FROM host_recovery_claims WHERE recovery_key = ? AND notification_uuid = ?').run(hostName, notificationUuid);
      }, false),

    appendTask: (notificationUuid, name, state, now, fence) =>
      conn.write(() =>
        conn.db
          .transaction(() => {
            fenced(fence, now);
            if (!conn.stmt('SELECT 1 FROM notifications WHERE uuid = ?').get(notificationUuid)) throw notificationNotFound(notificationUuid);
            const seq = conn.stmt<number>('SELECT COALESCE(MAX(seq), 0) + 1 FROM workflow_tasks WHERE notification_uuid = ?').pluck().get(notificationUuid)!;
            conn
              .stmt(
                `INSERT INTO workflow_tasks (notification_uuid, seq, name, state, progress, details, result, updated_at)
                 VALUES (?, ?, ?, ?, 0, '[]', NULL, ?)`,
              )
              .run(notificationUuid, seq, name, state, us(now));
            return seq;
          })
          .immediate(),
      ),

    updateTask: (notificationUuid, seq, patch, now, fence) =>
      conn.write(() =>
        conn.db
          .transaction(() => {
            fenced(fence, now);
            const row = conn
              .stmt<Pick<TaskRow, 'state' | 'progress' | 'details' | 'result'>>(
                'SELECT state, progress, details, result FROM workflow_tasks WHERE notification_uuid = ? AND seq = ?',
              )
              .get(notificationUuid, seq);
            if (!row) throw taskNotFound(notificationUuid, seq);
            conn
              .stmt('UPDATE workflow_tasks SET state = ?, progress = ?, details = ?, result = ?, updated_at = ? WHERE notification_uuid = ? AND seq = ?')
              .run(...patchedTask(row, patch), us(now), notificationUuid, seq);
          })
          .immediate(),
      ),

    listTasks: async (notificationUuid) =>
      conn.stmt<TaskRow>('SELECT * FROM workflow_tasks WHERE notification_uuid = ? ORDER BY seq').all(notificationUuid).map(toTask),
  };
}
