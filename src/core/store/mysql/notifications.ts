// Notifications on MySQL: durable intake with duplicate detection, status writes, and the engine's claim leases.
// Same behaviour as ../sqlite/notifications.ts; what differs is how atomicity is obtained across controllers.

import { conflict } from '../../domain/errors.ts';
import type { Notification, NotificationStatus } from '../../domain/model.ts';
import { notificationList as sqliteNotificationList, notificationNotFound } from '../sqlite/notifications.ts';
import type { ListSpec } from '../sqlite/listing.ts';
import { BACKFILL_STATUSES, payloadKey } from '../payload-key.ts';
import { canonicalJson, toNotification, us, type Raw } from '../sqlite/rows.ts';
import type { CreateNotificationResult, ListQuery, NewNotification, NotificationFilters } from '../types.ts';
import { isDuplicateKey, type Db, type Executor } from './connection.ts';
import { listRows } from './listing.ts';

export const notificationList: ListSpec<NotificationFilters> = {
  ...sqliteNotificationList,
  filters: (f) => {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (f.status !== undefined) (clauses.push('status = ?'), params.push(f.status));
    // mysql2 expands an array parameter into a list; an empty list would be a syntax error and matches nothing.
    if (f.statuses !== undefined) {
      if (f.statuses.length) (clauses.push('status IN (?)'), params.push(f.statuses));
      else clauses.push('0');
    }
    if (f.type !== undefined) (clauses.push('type = ?'), params.push(f.type));
    if (f.sourceHostUuid !== undefined) (clauses.push('source_host_uuid = ?'), params.push(f.sourceHostUuid));
    if (f.generatedSince !== undefined) (clauses.push('generated_time >= ?'), params.push(us(f.generatedSince)));
    return { clauses, params };
  },
};

/** As SQLite: only a notification still new or running makes a new identical one a duplicate. */
const DUPLICATE_OF_STATUSES = "('new', 'running')";

const byUuid = async (c: Executor, uuid: string): Promise<Raw | undefined> =>
  (await c.rows('SELECT * FROM notifications WHERE uuid = ? AND deleted = 0', [uuid]))[0];

/** The status write shared by setNotificationStatus and finishNotification; 404 when there is no such row. */
async function writeStatus(c: Executor, uuid: string, status: NotificationStatus, now: Date, lastError: string | null | undefined): Promise<void> {
  const { affectedRows } =
    lastError === undefined
      ? await c.run('UPDATE notifications SET status = ?, updated_at = ? WHERE uuid = ? AND deleted = 0', [status, us(now), uuid])
      : await c.run('UPDATE notifications SET status = ?, updated_at = ?, last_error = ? WHERE uuid = ? AND deleted = 0', [status, us(now), lastError, uuid]);
  if (affectedRows === 0) throw notificationNotFound(uuid);
}

export function notificationRepo(db: Db) {
  return {
    listNotifications: async (q: ListQuery<NotificationFilters>) => (await listRows(db, notificationList, q)).map(toNotification),

    getNotification: async (uuid: string) => {
      const r = await byUuid(db, uuid);
      return r ? toNotification(r) : undefined;
    },

    createNotification(input: NewNotification, duplicateWindowMs: number, now: Date): Promise<CreateNotificationResult> {
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
        const candidates = await c.rows(
          `SELECT * FROM notifications
           WHERE source_host_uuid = ? AND type = ? AND payload_key = ? AND deleted = 0 AND generated_time BETWEEN ? AND ?
             AND status IN ${DUPLICATE_OF_STATUSES}
           ORDER BY id`,
          [input.sourceHostUuid, input.type, key, t - windowUs, t + windowUs],
        );
        const wanted = canonicalJson(input.payload);
        const dup = candidates.find((r) => canonicalJson(JSON.parse(r.payload as string)) === wanted);
        if (dup) return { created: false, reason: 'duplicate', existing: toNotification(dup) };
        try {
          const { insertId } = await c.run(
            `INSERT INTO notifications (uuid, created_at, type, generated_time, source_host_uuid, payload, payload_key, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'new')`,
            [input.uuid, us(now), input.type, t, input.sourceHostUuid, JSON.stringify(input.payload), key],
          );
          return { created: true, notification: toNotification((await c.rows('SELECT * FROM notifications WHERE id = ?', [insertId]))[0]!) };
        } catch (e) {
          if (isDuplicateKey(e, 'notifications_uuid')) throw conflict(`Notification ${input.uuid} already exists.`);
          throw e;
        }
      });
      // Durable on resolve: COMMIT returned, and with innodb_flush_log_at_trx_commit=1 (the default) the redo log
      // is fsynced before the server acknowledges it.
    },

    setNotificationStatus(uuid: string, status: NotificationStatus, now: Date, lastError?: string | null): Promise<Notification> {
      return db.tx(async (c) => {
        await writeStatus(c, uuid, status, now, lastError);
        return toNotification((await byUuid(c, uuid))!);
      });
    },

    /** Store.finishNotification: the status and both releases in one transaction. */
    finishNotification(
      uuid: string,
      status: NotificationStatus,
      now: Date,
      lastError: string | null | undefined,
      release: { owner: string; hostKey?: string },
    ): Promise<Notification> {
      return db.tx(async (c) => {
        await writeStatus(c, uuid, status, now, lastError);
        if (release.hostKey !== undefined) {
          await c.run('DELETE FROM host_recovery_claims WHERE recovery_key = ? AND notification_uuid = ?', [release.hostKey, uuid]);
        }
        await c.run('UPDATE notifications SET claimed_by = NULL, claim_expires_at = NULL WHERE uuid = ? AND claimed_by = ?', [uuid, release.owner]);
        return toNotification((await byUuid(c, uuid))!);
      });
    },

    settleNewNotification(uuid: string, status: NotificationStatus, now: Date, lastError: string | null): Promise<Notification | undefined> {
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

    claimNotification(uuid: string, owner: string, leaseMs: number, now: Date, countAttempt: boolean): Promise<Notification | undefined> {
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

    async renewNotificationClaim(uuid: string, owner: string, leaseMs: number, now: Date): Promise<boolean> {
      const { affectedRows } = await db.run('UPDATE notifications SET claim_expires_at = ? WHERE uuid = ? AND deleted = 0 AND claimed_by = ?', [
        us(now) + Math.round(leaseMs * 1000),
        uuid,
        owner,
      ]);
      return affectedRows === 1;
    },

    async releaseNotificationClaim(uuid: string, owner: string): Promise<void> {
      await db.run('UPDATE notifications SET claimed_by = NULL, claim_expires_at = NULL WHERE uuid = ? AND claimed_by = ?', [uuid, owner]);
    },

    async findNotificationsByStatus(statuses: NotificationStatus[], limit: number): Promise<Notification[]> {
      if (!statuses.length || !(limit > 0)) return [];
      const rows = await db.rows('SELECT * FROM notifications WHERE deleted = 0 AND status IN (?) ORDER BY created_at ASC, id ASC LIMIT ?', [
        statuses,
        Math.floor(limit),
      ]);
      return rows.map(toNotification);
    },
  };
}

/** The MySQL twin of ../sqlite/notifications.ts backfillPayloadKeys (see there). */
export async function backfillPayloadKeys(db: Db): Promise<number> {
  const has = await db.rows(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'notifications' AND column_name = 'payload_key'`,
  );
  if (!has.length) return 0;
  const rows = await db.rows(
    `SELECT id, payload FROM notifications WHERE payload_key IS NULL AND deleted = 0 AND status IN (${BACKFILL_STATUSES.map((s) => `'${s}'`).join(', ')})`,
  );
  for (const r of rows) {
    await db.run('UPDATE notifications SET payload_key = ? WHERE id = ? AND payload_key IS NULL', [payloadKey(JSON.parse(r.payload as string)), r.id]);
  }
  return rows.length;
}
