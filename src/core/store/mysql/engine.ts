// The engine's bookkeeping on MySQL: per-host recovery leases and persisted workflow task progress.

import { notificationNotFound, taskNotFound } from '../sql/errors.ts';
import { patchedTask, toTask, us } from '../sql/rows.ts';
import { FENCE_SQL, checkFence, fenceParams } from '../sql/fence.ts';
import type { EngineStore, LeaseFence } from '../types.ts';
import { isDuplicateKey, type Db, type Executor } from './connection.ts';
import type { TaskRow } from './schema.ts';

/** Inside a write's transaction: refuses it (LeaseLostError) unless the fence's owner still holds the claim. */
export async function fenced(c: Executor, fence: LeaseFence | undefined, now: Date): Promise<void> {
  if (fence) checkFence(fence, (await c.run(FENCE_SQL, fenceParams(fence, now))).affectedRows);
}

export function engineRepo(db: Db): EngineStore {
  return {
    claimHostRecovery: async (hostName, notificationUuid, owner, leaseMs, now) => {
      const t = us(now);
      const expires = t + Math.round(leaseMs * 1000);
      // MySQL's upsert has no WHERE, so two statements in one transaction (run again as a whole after a deadlock or a
      // Galera certification conflict, and after an unknown commit: it is idempotent, the second run finds the row ours):
      return db.tx(
        async (c) => {
          // 1. take over an existing row when its lease expired or it is already ours for this notification
          //    (under the row lock, a racing second UPDATE re-checks the WHERE against the winner's values);
          const { affectedRows } = await c.run(
            `UPDATE host_recovery_claims SET notification_uuid = ?, owner = ?, expires_at = ?
             WHERE recovery_key = ? AND (expires_at < ? OR (owner = ? AND notification_uuid = ?))`,
            [notificationUuid, owner, expires, hostName, t, owner, notificationUuid],
          );
          if (affectedRows === 1) return true;
          // 2. otherwise the row is either held by someone else or absent: inserting wins only when absent (the
          //    primary key makes a racing second insert fail; on Galera, the later commit fails certification).
          try {
            await c.run('INSERT INTO host_recovery_claims (recovery_key, notification_uuid, owner, expires_at) VALUES (?, ?, ?, ?)', [
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
        { idempotent: true },
      );
    },

    releaseHostRecovery: async (hostName, notificationUuid) => {
      await db.run('DELETE FROM host_recovery_claims WHERE recovery_key = ? AND notification_uuid = ?', [hostName, notificationUuid], { idempotent: true });
    },

    appendTask: (notificationUuid, name, state, now, fence) =>
      db.tx(
        async (c, { retry }) => {
          await fenced(c, fence, now);
          // Locking the notification row serialises appends to its task list (and proves it exists); after the lock,
          // READ COMMITTED makes MAX(seq) see every task committed before.
          if (!(await c.rows('SELECT id FROM notifications WHERE uuid = ? FOR UPDATE', [notificationUuid])).length) {
            throw notificationNotFound(notificationUuid);
          }
          if (retry) {
            // An earlier attempt's commit may have happened: the same name and timestamp as the newest task is ours.
            const [mine] = await c.rows<{ seq: unknown; name: string; updated_at: unknown }>(
              'SELECT seq, name, updated_at FROM workflow_tasks WHERE notification_uuid = ? ORDER BY seq DESC LIMIT 1',
              [notificationUuid],
            );
            if (mine && mine.name === name && Number(mine.updated_at) === us(now)) return Number(mine.seq);
          }
          const [r] = await c.rows<{ seq: unknown }>('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM workflow_tasks WHERE notification_uuid = ?', [
            notificationUuid,
          ]);
          const seq = Number(r!.seq);
          await c.run(
            `INSERT INTO workflow_tasks (notification_uuid, seq, name, state, progress, details, result, updated_at)
           VALUES (?, ?, ?, ?, 0, '[]', NULL, ?)`,
            [notificationUuid, seq, name, state, us(now)],
          );
          return seq;
        },
        { idempotent: true },
      ),

    updateTask: (notificationUuid, seq, patch, now, fence) =>
      db.tx(
        async (c) => {
          await fenced(c, fence, now);
          const [row] = await c.rows<Pick<TaskRow, 'state' | 'progress' | 'details' | 'result'>>(
            'SELECT state, progress, details, result FROM workflow_tasks WHERE notification_uuid = ? AND seq = ? FOR UPDATE',
            [notificationUuid, seq],
          );
          if (!row) throw taskNotFound(notificationUuid, seq);
          await c.run('UPDATE workflow_tasks SET state = ?, progress = ?, details = ?, result = ?, updated_at = ? WHERE notification_uuid = ? AND seq = ?', [
            ...patchedTask(row, patch),
            us(now),
            notificationUuid,
            seq,
          ]);
        },
        { idempotent: true },
      ),

    listTasks: async (notificationUuid) =>
      (await db.rows<TaskRow>('SELECT * FROM workflow_tasks WHERE notification_uuid = ? ORDER BY seq', [notificationUuid])).map(toTask),
  };
}
