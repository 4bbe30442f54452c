// Notifications: reads, status writes, and the engine's claim leases (intake: intake.ts).

import { notificationNotFound } from '../sql/errors.ts';
import { notificationList as listOf } from '../sql/lists.ts';
import { toNotification, us } from '../sql/rows.ts';
import type { NotificationFilters, NotificationStore } from '../types.ts';
import type { Connection } from './connection.ts';
import { listRows } from './listing.ts';
import type { NotificationRow } from './schema.ts';

// json_each keeps one statement text for any number of statuses; an empty list matches nothing.
export const notificationList = listOf((statuses) => ({ clause: 'status IN (SELECT value FROM json_each(?))', params: [JSON.stringify(statuses)] }));

export function notificationRepo(conn: Connection): NotificationStore {
  // Single-statement writes go without a savepoint (group-commit.ts run): SQLite undoes a failed statement itself.
  const write1 = <T>(op: () => T): Promise<T> => conn.write(op, false);

  return {
    listNotifications: async (q) => listRows<NotificationFilters, NotificationRow>(conn, notificationList, q).map(toNotification),

    getNotification: async (uuid) => {
      const r = conn.stmt<NotificationRow>('SELECT * FROM notifications WHERE uuid = ? AND deleted = 0').get(uuid);
      return r ? toNotification(r) : undefined;
    },

    setNotificationStatus: (uuid, status, now, lastError) =>
      write1(() => {
        const r =
          lastError === undefined
            ? conn
                .stmt<NotificationRow>('UPDATE notifications SET status = ?, updated_at = ? WHERE uuid = ? AND deleted = 0 RETURNING *')
                .get(status, us(now), uuid)
            : conn
                .stmt<NotificationRow>('UPDATE notifications SET status = ?, updated_at = ?, last_error = ? WHERE uuid = ? AND deleted = 0 RETURNING *')
                .get(status, us(now), lastError, uuid);
        if (!r) throw notificationNotFound(uuid);
        return toNotification(r);
      }),

    // The three statements of Store.finishNotification in one write, so they commit together.
    finishNotification: (uuid, status, now, lastError, release) =>
      conn.write(() => {
        // Status and claim release in one UPDATE (SET expressions all read the old row, so both CASEs see the old owner).
        const releaseClaim = `claimed_by = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_by END,
             claim_expires_at = CASE WHEN claimed_by = ? THEN NULL ELSE claim_expires_at END`;
        const r =
          lastError === undefined
            ? conn
                .stmt<NotificationRow>(`UPDATE notifications SET status = ?, updated_at = ?, ${releaseClaim} WHERE uuid = ? AND deleted = 0 RETURNING *`)
                .get(status, us(now), release.owner, release.owner, uuid)
            : conn
                .stmt<NotificationRow>(
                  `UPDATE notifications SET status = ?, updated_at = ?, last_error = ?, ${releaseClaim} WHERE uuid = ? AND deleted = 0 RETURNING *`,
                )
                .get(status, us(now), lastError, release.owner, release.owner, uuid);
        if (!r) throw notificationNotFound(uuid);
        if (release.hostKey !== undefined) {
          conn.stmt('DELETE FROM host_recovery_claims WHERE recovery_key = ? AND notification_uuid = ?').run(release.hostKey, uuid);
        }
        return toNotification(r);
      }),

    settleNewNotification: (uuid, status, now, lastError) =>
      write1(() => {
        const t = us(now);
        const r = conn
          .stmt<NotificationRow>(
            `UPDATE notifications SET status = ?, updated_at = ?, last_error = ?, attempts = attempts + 1
             WHERE uuid = ? AND deleted = 0 AND status = 'new' AND (claimed_by IS NULL OR claim_expires_at < ?)
             RETURNING *`,
          )
          .get(status, t, lastError, uuid, t);
        return r ? toNotification(r) : undefined;
      }),

    claimNotification: (uuid, owner, leaseMs, now, countAttempt) =>
      write1(() => {
        const t = us(now);
        // One statement decides: free, expired, or already ours. Two controllers racing: SQLite serialises the
        // writes, and the second one's WHERE no longer matches.
        const r = conn
          .stmt<NotificationRow>(
            `UPDATE notifications SET claimed_by = ?, claim_expires_at = ?, attempts = attempts + ?
             WHERE uuid = ? AND deleted = 0 AND (claimed_by IS NULL OR claim_expires_at < ? OR claimed_by = ?)
             RETURNING *`,
          )
          .get(owner, t + Math.round(leaseMs * 1000), countAttempt ? 1 : 0, uuid, t, owner);
        return r ? toNotification(r) : undefined;
      }),

    renewNotificationClaim: (uuid, owner, leaseMs, now) =>
      write1(
        () =>
          conn
            .stmt('UPDATE notifications SET claim_expires_at = ? WHERE uuid = ? AND deleted = 0 AND claimed_by = ?')
            .run(us(now) + Math.round(leaseMs * 1000), uuid, owner).changes === 1,
      ),

    releaseNotificationClaim: (uuid, owner) =>
      write1(() => {
        conn.stmt('UPDATE notifications SET claimed_by = NULL, claim_expires_at = NULL WHERE uuid = ? AND claimed_by = ?').run(uuid, owner);
      }),

    findNotificationsByStatus: async (statuses, limit) => {
      if (!statuses.length || !(limit > 0)) return [];
      if (statuses.length === 1) {
        // One status walks the (status, created_at, id) index in order and stops after `limit` rows.
        return conn
          .stmt<NotificationRow>('SELECT * FROM notifications WHERE deleted = 0 AND status = ? ORDER BY created_at ASC, id ASC LIMIT ?')
          .all(statuses[0], Math.floor(limit))
          .map(toNotification);
      }
      // json_each keeps one prepared statement for any number of statuses (SQLite then sorts the matching rows).
      return conn
        .stmt<NotificationRow>(
          `SELECT * FROM notifications
           WHERE deleted = 0 AND status IN (SELECT value FROM json_each(?))
           ORDER BY created_at ASC, id ASC LIMIT ?`,
        )
        .all(JSON.stringify(statuses), Math.floor(limit))
        .map(toNotification);
    },
  };
}
