// Notifications on MySQL: durable intake with duplicate detection, status writes, and the engine's claim leases.
// What differs from SQLite is how atomicity is obtained across controllers: row locks, not one writer.

import type { NotificationStatus } from '../../domain/model.ts';
import { duplicateNotification, notificationNotFound } from '../sql/errors.ts';
import { notificationList as listOf } from '../sql/lists.ts';
import { toNotification, us } from '../sql/rows.ts';
import { BACKFILL_STATUSES, payloadKey, samePayload } from '../payload-key.ts';
import type { CreateNotificationResult, NotificationFilters, Store } from '../types.ts';
import { isDuplicateKey, type Db, type Executor } from './connection.ts';
import { listRows } from './listing.ts';
import type { NotificationRow } from './schema.ts';

// mysql2 expands an array parameter into a list; an empty list would be a syntax error and matches nothing.
export const notificationList = listOf((statuses) => (statuses.length ? { clause: 'status IN (?)', params: [statuses] } : { clause: '0', params: [] }));

/**
 * Statuses a notification must still have to make a new identical one a duplicate. Like Masakari: once the first
 * one finished (or failed), the same event again is a new failure that must be handled, not dropped.
 */
const DUPLICATE_OF_STATUSES = "('new', 'running')";

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

export function notificationRepo(db: Db): NotificationStore {
  return {
    listNotifications: async (q) => (await listRows<NotificationFilters, NotificationRow>(db, notificationList, q)).map(toNotification),

    getNotification: async (uuid) => {
      const r = await byUuid(db, uuid);
      return r ? toNotification(r) : undefined;
    },

    createNotification: (input, duplicateWindowMs, now) => {
      const windowUs = Math.max(0, Math.round(duplicateWindowMs * 1000));
      const t = us(input.generatedTime);
      return db.tx(async (c): Promise<CreateNotificationResult> => {
        // Serialise intakes of the same (source host, type) across all controllers: this upsert takes the row's
        // exclusive lock (creating the row the first time) until commit, so the duplicate check and the insert below
        // are atomic together. It WRITES the row on purpose: with Galera, where row locks are not cluster-wide, two
        // nodes writing the same row conflict at commit and one is retried (as a deadlock), which then sees the
        // other's notification.
        await c.run(
          `INSERT INTO notification_intake_locks (source_host_uuid, type, bumps) VALUES (?, ?, 1)
           ON DUPLICATE KEY UPDATE bumps = bumps + 1`,
          [input.sourceHostUuid, input.type],
        );
        // READ COMMITTED: this read sees everything the previous lock holder committed. Looked up by payload key
        // (migration 0001); equal keys are confirmed on the canonical JSON (payload-key.ts).
        const key = payloadKey(input.payload);
        const candidates = await c.rows<NotificationRow>(
          `SELECT * FROM notifications
           WHERE source_host_uuid = ? AND type = ? AND payload_key = ? AND deleted = 0 AND generated_time BETWEEN ? AND ?
             AND status IN ${DUPLICATE_OF_STATUSES}
           ORDER BY id`,
          [input.sourceHostUuid, input.type, key, t - windowUs, t + windowUs],
        );
        const dup = samePayload(candidates, input.payload);
        if (dup) return { created: false, reason: 'duplicate', existing: toNotification(dup) };
        try {
          const { insertId } = await c.run(
            `INSERT INTO notifications (uuid, created_at, type, generated_time, source_host_uuid, payload, payload_key, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'new')`,
            [input.uuid, us(now), input.type, t, input.sourceHostUuid, JSON.stringify(input.payload), key],
          );
          return { created: true, notification: toNotification((await c.rows<NotificationRow>('SELECT * FROM notifications WHERE id = ?', [insertId]))[0]!) };
        } catch (e) {
          if (isDuplicateKey(e, 'notifications_uuid')) throw duplicateNotification(input.uuid);
          throw e;
        }
      });
      // Durable on resolve: COMMIT returned, and with innodb_flush_log_at_trx_commit=1 (the default) the redo log
      // is fsynced before the server acknowledges it.
    },

    setNotificationStatus: (uuid, status, now, lastError) =>
      db.tx(async (c) => {
        await writeStatus(c, uuid, status, now, lastError);
        return toNotification((await byUuid(c, uuid))!);
      }),

    /** Store.finishNotification: the status and both releases in one transaction. */
    finishNotification: (uuid, status, now, lastError, release) =>
      db.tx(async (c) => {
        await writeStatus(c, uuid, status, now, lastError);
        if (release.hostKey !== undefined) {
          await c.run('DELETE FROM host_recovery_claims WHERE host_name = ? AND notification_uuid = ?', [release.hostKey, uuid]);
        }
        await c.run('UPDATE notifications SET claimed_by = NULL, claim_expires_at = NULL WHERE uuid = ? AND claimed_by = ?', [uuid, release.owner]);
        return toNotification((await byUuid(c, uuid))!);
      }),

    settleNewNotification: (uuid, status, now, lastError) => {
      const t = us(now);
      return db.tx(async (c) => {
        // As claimNotification: InnoDB locks the row and re-evaluates the WHERE against a racing controller's commit.
        const { affectedRows } = await c.run(
          `UPDATE notifications SET status = ?, updated_at = ?, last_error = ?, attempts = attempts + 1
           WHERE uuid = ? AND deleted = 0 AND status = 'new' AND (claimed_by IS NULL OR claim_expires_at < ?)`,
          [status, t, lastError, uuid, t],
        );
        if (affectedRows !== 1) return undefined;
        return toNotification((await byUuid(c, uuid))!);
      });
    },

    claimNotification: (uuid, owner, leaseMs, now, countAttempt) => {
      const t = us(now);
      return db.tx(async (c) => {
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
      });
    },

    renewNotificationClaim: async (uuid, owner, leaseMs, now) => {
      const { affectedRows } = await db.run('UPDATE notifications SET claim_expires_at = ? WHERE uuid = ? AND deleted = 0 AND claimed_by = ?', [
        us(now) + Math.round(leaseMs * 1000),
        uuid,
        owner,
      ]);
      return affectedRows === 1;
    },

    releaseNotificationClaim: async (uuid, owner) => {
      await db.run('UPDATE notifications SET claimed_by = NULL, claim_expires_at = NULL WHERE uuid = ? AND claimed_by = ?', [uuid, owner]);
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

/**
 * Gives rows written before migration 0001 their payload_key, for those that can still be duplicated (new,
 * running) or come back to running (error, retried once). Idempotent; a no-op while the column does not exist yet.
 */
export async function backfillPayloadKeys(db: Db): Promise<number> {
  const has = await db.rows(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'notifications' AND column_name = 'payload_key'`,
  );
  if (!has.length) return 0;
  const rows = await db.rows<Pick<NotificationRow, 'id' | 'payload'>>(
    `SELECT id, payload FROM notifications WHERE payload_key IS NULL AND deleted = 0 AND status IN (${BACKFILL_STATUSES.map((s) => `'${s}'`).join(', ')})`,
  );
  for (const r of rows) {
    await db.run('UPDATE notifications SET payload_key = ? WHERE id = ? AND payload_key IS NULL', [payloadKey(JSON.parse(r.payload)), r.id]);
  }
  return rows.length;
}
