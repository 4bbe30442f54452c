// Notifications on MySQL: reads, status writes, and the engine's claim leases (intake: intake.ts).
// What differs from SQLite is how atomicity is obtained across controllers: row locks, not one writer.

import type { NotificationStatus } from '../../domain/model.ts';
import { notificationNotFound } from '../sql/errors.ts';
import { notificationList as listOf } from '../sql/lists.ts';
import { toNotification, us } from '../sql/rows.ts';
import type { NotificationFilters, NotificationStore } from '../types.ts';
import type { Db, Executor } from './connection.ts';
import { listRows } from './listing.ts';
import type { NotificationRow } from './schema.ts';

// mysql2 expands an array parameter into a list; an empty list would be a syntax error and matches nothing.
export const notificationList = listOf((statuses) => (statuses.length ? { clause: 'status IN (?)', params: [statuses] } : { clause: '0', params: [] }));

const byUuid = async (c: Executor, uuid: string): Promise<NotificationRow | undefined> =>
  (await c.rows<NotificationRow>('SELECT * FROM notifications WHERE uuid = ? AND deleted = 0', [uuid]))[0];

/** The status write shared by setNotificationStatus and finishNotification; 404 when there is no such row. */
async function writeStatus(c: Executor, uuid: string, status: NotificationStatus, now: Date, lastError: string | null | undefined): Promise<void> {
  const { affectedRows } =
    lastError === undefined
      ? await c.run('UPDATE notifications SET status = ?, updated_at = ? WHERE uuid = ? AND deleted = 0', [status, us(now), uuid])
      : await c.run('UPDATE notifications SET status = ?, updated_at = ?, last_error = ? WHERE uuid = ? AND deleted = 0', [status, us(now), lastError, uuid]);
  if (affectedRows === 0) throw notificationNotFound(uuid);
}

export function notificationRepo(db: Db): NotificationStore {
  return {
    listNotifications: async (q) => (await listRows<NotificationFilters, NotificationRow>(db, notificationList, q)).map(toNotification),

    getNotification: async (uuid) => {
      const r = await byUuid(db, uuid);
      return r ? toNotification(r) : undefined;
    },

    setNotificationStatus: (uuid, status, now, lastError) =>
      db.tx(
        async (c) => {
          await writeStatus(c, uuid, status, now, lastError);
          return toNotification((await byUuid(c, uuid))!);
        },
        { idempotent: true },
      ),

    /** Store.finishNotification: the status and both releases in one transaction. */
    finishNotification: (uuid, status, now, lastError, release) =>
      db.tx(
        async (c) => {
          await writeStatus(c, uuid, status, now, lastError);
          if (release.hostKey !== undefined) {
            await c.run('DELETE FROM host_recovery_claims WHERE recovery_key = ? AND notification_uuid = ?', [release.hostKey, uuid]);
          }
          await c.run('UPDATE notifications SET claimed_by = NULL, claim_expires_at = NULL WHERE uuid = ? AND claimed_by = ?', [uuid, release.owner]);
          return toNotification((await byUuid(c, uuid))!);
        },
        { idempotent: true },
      ),

    settleNewNotification: (uuid, status, now, lastError) => {
      const t = us(now);
      return db.tx(
        async (c, { retry }) => {
          // As claimNotification: InnoDB locks the row and re-evaluates the WHERE against a racing controller's commit.
          const { affectedRows } = await c.run(
            `UPDATE notifications SET status = ?, updated_at = ?, last_error = ?, attempts = attempts + 1
           WHERE uuid = ? AND deleted = 0 AND status = 'new' AND (claimed_by IS NULL OR claim_expires_at < ?)`,
            [status, t, lastError, uuid, t],
          );
          if (affectedRows !== 1) {
            // After an unknown commit, our own earlier settle (same status and timestamp) is the answer.
            const mine = retry ? await byUuid(c, uuid) : undefined;
            return mine && mine.status === status && Number(mine.updated_at) === t ? toNotification(mine) : undefined;
          }
          return toNotification((await byUuid(c, uuid))!);
        },
        { idempotent: true },
      );
    },

    claimNotification: (uuid, owner, leaseMs, now, countAttempt) => {
      const t = us(now);
      return db.tx(
        async (c) => {
          // One UPDATE decides: free, expired, or already ours. Two controllers racing: InnoDB locks the row, and the
          // second UPDATE re-evaluates its WHERE against the first one's committed claim, which no longer matches.
          // affectedRows counts matched rows (CLIENT_FOUND_ROWS), so re-claiming with identical values still counts.
          const { affectedRows } = await c.run(
            `UPDATE notifications SET claimed_by = ?, claim_expires_at = ?, attempts = attempts + ?
           WHERE uuid = ? AND deleted = 0 AND (claimed_by IS NULL OR claim_expires_at < ? OR claimed_by = ?)`,
            [owner, t + Math.round(leaseMs * 1000), countAttempt ? 1 : 0, uuid, t, owner],
          );
          if (affectedRows !== 1) return undefined;
          // Still inside the transaction, the row is locked: this is exactly the row we claimed.
          return toNotification((await byUuid(c, uuid))!);
        },
        { idempotent: true },
      );
    },

    renewNotificationClaim: async (uuid, owner, leaseMs, now) => {
      const { affectedRows } = await db.run(
        'UPDATE notifications SET claim_expires_at = ? WHERE uuid = ? AND deleted = 0 AND claimed_by = ?',
        [us(now) + Math.round(leaseMs * 1000), uuid, owner],
        { idempotent: true },
      );
      return affectedRows === 1;
    },

    releaseNotificationClaim: async (uuid, owner) => {
      await db.run('UPDATE notifications SET claimed_by = NULL, claim_expires_at = NULL WHERE uuid = ? AND claimed_by = ?', [uuid, owner], {
        idempotent: true,
      });
    },

    findNotificationsByStatus: async (statuses, limit) => {
      if (!statuses.length || !(limit > 0)) return [];
      const rows = await db.rows<NotificationRow>('SELECT * FROM notifications WHERE deleted = 0 AND status IN (?) ORDER BY created_at ASC, id ASC LIMIT ?', [
        statuses,
        Math.floor(limit),
      ]);
      return rows.map(toNotification);
    },
  };
}
