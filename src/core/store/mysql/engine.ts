// The engine's bookkeeping on MySQL: per-host recovery leases and persisted workflow task progress.
// Same behaviour as ../sqlite/engine.ts.

import { notFound } from '../../domain/errors.ts';
import type { ProgressDetail, TaskState, WorkflowTaskRecord } from '../../domain/model.ts';
import { notificationNotFound } from '../sqlite/notifications.ts';
import { detailToStored, toTask, us, type StoredDetail } from '../sqlite/rows.ts';
import { isDuplicateKey, type Db } from './connection.ts';

export function engineRepo(db: Db) {
  return {
    async claimHostRecovery(hostName: string, notificationUuid: string, owner: string, leaseMs: number, now: Date): Promise<boolean> {
      const t = us(now);
      const expires = t + Math.round(leaseMs * 1000);
      // MySQL's upsert has no WHERE, so two single statements, each atomic on its own:
      // 1. take over an existing row when its lease expired or it is already ours for this notification
      //    (under the row lock, a racing second UPDATE re-checks the WHERE against the winner's values);
      const { affectedRows } = await db.run(
        `UPDATE host_recovery_claims SET notification_uuid = ?, owner = ?, expires_at = ?
         WHERE recovery_key = ? AND (expires_at < ? OR (owner = ? AND notification_uuid = ?))`,
        [notificationUuid, owner, expires, hostName, t, owner, notificationUuid],
      );
      if (affectedRows === 1) return true;
      // 2. otherwise the row is either held by someone else or absent: inserting wins only when absent (the
      //    primary key makes a racing second insert fail).
      try {
        await db.run('INSERT INTO host_recovery_claims (recovery_key, notification_uuid, owner, expires_at) VALUES (?, ?, ?, ?)', [
          hostName,
          notificationUuid,
          owner,
          expires,
        ]);
        return true;
      } catch (e) {
        if (isDuplicateKey(e, 'PRIMARY')) return false;
        throw e;
      }
    },

    async releaseHostRecovery(hostName: string, notificationUuid: string): Promise<void> {
      await db.run('DELETE FROM host_recovery_claims WHERE recovery_key = ? AND notification_uuid = ?', [hostName, notificationUuid]);
    },

    appendTask(notificationUuid: string, name: string, state: TaskState, now: Date): Promise<number> {
      return db.tx(async (c) => {
        // Locking the notification row serialises appends to its task list (and proves it exists); after the lock,
        // READ COMMITTED makes MAX(seq) see every task committed before.
        if (!(await c.rows('SELECT id FROM notifications WHERE uuid = ? FOR UPDATE', [notificationUuid])).length) {
          throw notificationNotFound(notificationUuid);
        }
        const [r] = await c.rows('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM workflow_tasks WHERE notification_uuid = ?', [notificationUuid]);
        const seq = Number(r!.seq);
        await c.run(
          `INSERT INTO workflow_tasks (notification_uuid, seq, name, state, progress, details, result, updated_at)
           VALUES (?, ?, ?, ?, 0, '[]', NULL, ?)`,
          [notificationUuid, seq, name, state, us(now)],
        );
        return seq;
      });
    },

    updateTask(
      notificationUuid: string,
      seq: number,
      patch: { state?: TaskState; progress?: number; addDetail?: ProgressDetail; result?: unknown },
      now: Date,
    ): Promise<void> {
      return db.tx(async (c) => {
        const [row] = await c.rows('SELECT state, progress, details, result FROM workflow_tasks WHERE notification_uuid = ? AND seq = ? FOR UPDATE', [
          notificationUuid,
          seq,
        ]);
        if (!row) throw notFound(`No task ${seq} for notification ${notificationUuid}.`);
        let details = row.details as string;
        if (patch.addDetail) {
          const list = JSON.parse(details) as StoredDetail[];
          list.push(detailToStored(patch.addDetail));
          details = JSON.stringify(list);
        }
        await c.run('UPDATE workflow_tasks SET state = ?, progress = ?, details = ?, result = ?, updated_at = ? WHERE notification_uuid = ? AND seq = ?', [
          patch.state ?? row.state,
          patch.progress ?? row.progress,
          details,
          'result' in patch ? (patch.result === undefined ? null : JSON.stringify(patch.result)) : row.result,
          us(now),
          notificationUuid,
          seq,
        ]);
      });
    },

    listTasks: async (notificationUuid: string): Promise<WorkflowTaskRecord[]> =>
      (await db.rows('SELECT * FROM workflow_tasks WHERE notification_uuid = ? ORDER BY seq', [notificationUuid])).map(toTask),
  };
}
