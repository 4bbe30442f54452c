// Notifications: durable intake with duplicate detection, status writes, and the engine's claim leases.

import { duplicateNotification, notificationNotFound } from '../sql/errors.ts';
import { notificationList as listOf } from '../sql/lists.ts';
import { toNotification, us } from '../sql/rows.ts';
import { BACKFILL_STATUSES, payloadKey, samePayload } from '../payload-key.ts';
import type { NewNotification, NotificationFilters, Store } from '../types.ts';
import { isUniqueViolation, type Connection } from './connection.ts';
import { listRows } from './listing.ts';
import type { NotificationRow } from './schema.ts';

// json_each keeps one statement text for any number of statuses; an empty list matches nothing.
export const notificationList = listOf((statuses) => ({ clause: 'status IN (SELECT value FROM json_each(?))', params: [JSON.stringify(statuses)] }));

/**
 * Statuses a notification must still have to make a new identical one a duplicate. Like Masakari: once the first
 * one finished (or failed), the same event again is a new failure that must be handled, not dropped.
 */
const DUPLICATE_OF_STATUSES = "('new', 'running')";

export type NotificationStore = Pick<
  Store,
  | 'listNotifications'
  | 'getNotification'
  | 'createNotification'
  | 'setNotificationStatus'
  | 'finishNotification'
  | 'settleNewNotification'
  | 'claimNotification'
  | 'renewNotificationClaim'
  | 'releaseNotificationClaim'
  | 'findNotificationsByStatus'
>;

export function notificationRepo(conn: Connection): NotificationStore {
  const findDuplicate = (input: NewNotification, key: string, windowUs: number): NotificationRow | undefined => {
    const t = us(input.generatedTime);
    // One probe of the partial index notifications_duplicate_candidates (migration 0001); equal keys are confirmed
    // on the canonical JSON itself (payload-key.ts).
    const candidates = conn
      .stmt<NotificationRow>(
        `SELECT * FROM notifications
         WHERE deleted = 0 AND source_host_uuid = ? AND type = ? AND payload_key = ? AND generated_time BETWEEN ? AND ?
           AND status IN ${DUPLICATE_OF_STATUSES}
         ORDER BY id`,
      )
      .all(input.sourceHostUuid, input.type, key, t - windowUs, t + windowUs);
    return samePayload(candidates, input.payload);
  };

  // Single-statement writes go without a savepoint (group-commit.ts run): SQLite undoes a failed statement itself.
  const write1 = <T>(op: () => T): Promise<T> => conn.write(op, false);

  return {
    listNotifications: async (q) => listRows<NotificationFilters, NotificationRow>(conn, notificationList, q).map(toNotification),

    getNotification: async (uuid) => {
      const r = conn.stmt<NotificationRow>('SELECT * FROM notifications WHERE uuid = ? AND deleted = 0').get(uuid);
      return r ? toNotification(r) : undefined;
    },

    createNotification: (input, duplicateWindowMs, now) => {
      const windowUs = Math.max(0, Math.round(duplicateWindowMs * 1000));
      // Intake shares one BEGIN IMMEDIATE ... COMMIT (one fsync) with the other notifications that arrived meanwhile
      // (group-commit.ts); the promise settles only after that commit. IMMEDIATE takes the write lock before looking,
      // and the batch runs in arrival order, so of two identical notifications, racing or in one batch, one inserts.
      // Only the INSERT changes anything, and when it fails SQLite has undone it: no savepoint needed.
      return write1(() => {
        const key = payloadKey(input.payload);
        const dup = findDuplicate(input, key, windowUs);
        if (dup) return { created: false, reason: 'duplicate', existing: toNotification(dup) };
        try {
          const r = conn
            .stmt<NotificationRow>(
              `INSERT INTO notifications (uuid, created_at, type, generated_time, source_host_uuid, payload, payload_key, status)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'new') RETURNING *`,
            )
            .get(input.uuid, us(now), input.type, us(input.generatedTime), input.sourceHostUuid, JSON.stringify(input.payload), key)!;
          return { created: true, notification: toNotification(r) };
        } catch (e) {
          if (isUniqueViolation(e, 'notifications.uuid')) throw duplicateNotification(input.uuid);
          throw e;
        }
      });
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
          conn.stmt('DELETE FROM host_recovery_claims WHERE host_name = ? AND notification_uuid = ?').run(release.hostKey, uuid);
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

/**
 * Gives rows written before migration 0001 their payload_key, for those that can still be duplicated (new,
 * running) or come back to running (error, retried once). Finished rows never need one. Idempotent; a no-op
 * while the column does not exist yet (auto_migrate off and 0001 pending).
 */
export function backfillPayloadKeys(conn: Connection): number {
  const hasColumn = conn.db.prepare(`SELECT 1 FROM pragma_table_info('notifications') WHERE name = 'payload_key'`).get();
  if (!hasColumn) return 0;
  const statuses = BACKFILL_STATUSES.map((s) => `'${s}'`).join(', ');
  const rows = conn.db
    .prepare<[], Pick<NotificationRow, 'id' | 'payload'>>(
      `SELECT id, payload FROM notifications WHERE payload_key IS NULL AND deleted = 0 AND status IN (${statuses})`,
    )
    .all();
  if (!rows.length) return 0;
  const update = conn.db.prepare('UPDATE notifications SET payload_key = ? WHERE id = ?');
  conn.db.transaction(() => {
    for (const r of rows) update.run(payloadKey(JSON.parse(r.payload)), r.id);
  })();
  conn.noteWrite();
  return rows.length;
}
