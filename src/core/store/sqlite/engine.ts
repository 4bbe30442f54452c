// The engine's bookkeeping: per-host recovery leases and persisted workflow task progress.

import { notFound } from '../../domain/errors.ts';
import type { ProgressDetail, TaskState, WorkflowTaskRecord } from '../../domain/model.ts';
import type { Connection } from './connection.ts';
import { detailToStored, toTask, us, type Raw, type StoredDetail } from './rows.ts';
import { notificationNotFound } from './notifications.ts';

export function engineRepo(conn: Connection) {
  return {
    claimHostRecovery(hostName: string, notificationUuid: string, owner: string, leaseMs: number, now: Date): boolean {
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
    },

    releaseHostRecovery(hostName: string, notificationUuid: string): void {
      conn.stmt('DELETE FROM host_recovery_claims WHERE recovery_key = ? AND notification_uuid = ?').run(hostName, notificationUuid);
    },

    appendTask(notificationUuid: string, name: string, state: TaskState, now: Date): number {
      return conn.db
        .transaction(() => {
          if (!conn.stmt('SELECT 1 FROM notifications WHERE uuid = ?').get(notificationUuid)) throw notificationNotFound(notificationUuid);
          const seq = conn
            .stmt('SELECT COALESCE(MAX(seq), 0) + 1 FROM workflow_tasks WHERE notification_uuid = ?')
            .pluck()
            .get(notificationUuid) as number;
          conn
            .stmt(
              `INSERT INTO workflow_tasks (notification_uuid, seq, name, state, progress, details, result, updated_at)
               VALUES (?, ?, ?, ?, 0, '[]', NULL, ?)`,
            )
            .run(notificationUuid, seq, name, state, us(now));
          return seq;
        })
        .immediate();
    },

    updateTask(
      notificationUuid: string,
      seq: number,
      patch: { state?: TaskState; progress?: number; addDetail?: ProgressDetail; result?: unknown },
      now: Date,
    ): void {
      conn.db
        .transaction(() => {
          const row = conn
            .stmt('SELECT state, progress, details, result FROM workflow_tasks WHERE notification_uuid = ? AND seq = ?')
            .get(notificationUuid, seq) as Raw | undefined;
          if (!row) throw notFound(`No task ${seq} for notification ${notificationUuid}.`);
          let details = row.details as string;
          if (patch.addDetail) {
            const list = JSON.parse(details) as StoredDetail[];
            list.push(detailToStored(patch.addDetail));
            details = JSON.stringify(list);
          }
          conn
            .stmt('UPDATE workflow_tasks SET state = ?, progress = ?, details = ?, result = ?, updated_at = ? WHERE notification_uuid = ? AND seq = ?')
            .run(
              patch.state ?? row.state,
              patch.progress ?? row.progress,
              details,
              'result' in patch ? (patch.result === undefined ? null : JSON.stringify(patch.result)) : row.result,
              us(now),
              notificationUuid,
              seq,
            );
        })
        .immediate();
    },

    listTasks: (notificationUuid: string): WorkflowTaskRecord[] =>
      (conn.stmt('SELECT * FROM workflow_tasks WHERE notification_uuid = ? ORDER BY seq').all(notificationUuid) as Raw[]).map(toTask),
  };
}
