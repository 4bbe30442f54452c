// Notifications: durable intake with duplicate detection, status writes, and the engine's claim leases.

import { conflict, notFound } from '../../domain/errors.ts';
import type { Notification, NotificationStatus } from '../../domain/model.ts';
import type { CreateNotificationResult, ListQuery, NewNotification, NotificationFilters } from '../types.ts';
import { isUniqueViolation, type Connection } from './connection.ts';
import { listRows, type ListSpec } from './listing.ts';
import { BACKFILL_STATUSES, payloadKey } from '../payload-key.ts';
import { canonicalJson, toNotification, us, type Raw } from './rows.ts';

export const notificationList: ListSpec<NotificationFilters> = {
  table: 'notifications',
  sortKeys: {
    created_at: { column: 'created_at', nullable: false },
    type: { column: 'type', nullable: false },
    generated_time: { column: 'generated_time', nullable: false },
    updated_at: { column: 'updated_at', nullable: true },
    uuid: { column: 'uuid', nullable: false },
    payload: { column: 'payload', nullable: false },
    status: { column: 'status', nullable: false },
    source_host_uuid: { column: 'source_host_uuid', nullable: false },
  },
  filters: (f) => {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (f.status !== undefined) (clauses.push('status = ?'), params.push(f.status));
    // json_each keeps one statement text for any number of statuses; an empty list matches nothing.
    if (f.statuses !== undefined) (clauses.push('status IN (SELECT value FROM json_each(?))'), params.push(JSON.stringify(f.statuses)));
    if (f.type !== undefined) (clauses.push('type = ?'), params.push(f.type));
    if (f.sourceHostUuid !== undefined) (clauses.push('source_host_uuid = ?'), params.push(f.sourceHostUuid));
    if (f.generatedSince !== undefined) (clauses.push('generated_time >= ?'), params.push(us(f.generatedSince)));
    return { clauses, params };
  },
};

/**
 * Statuses a notification must still have to make a new identical one a duplicate. Like Masakari: once the first
 * one finished (or failed), the same event again is a new failure that must be handled, not dropped.
 */
const DUPLICATE_OF_STATUSES = "('new', 'running')";

export const notificationNotFound = (uuid: string) => notFound(`No notification with id ${uuid}.`);

export function notificationRepo(conn: Connection) {
  const getRaw = (uuid: string) => conn.stmt('SELECT * FROM notifications WHERE uuid = ? AND deleted = 0').get(uuid) as Raw | undefined;

  const findDuplicate = (input: NewNotification, key: string, windowUs: number): Raw | undefined => {
    const t = us(input.generatedTime);
    // One probe of the partial index notifications_duplicate_candidates (migration 0001); equal keys are confirmed
    // on the canonical JSON itself (payload-key.ts).
    const candidates = conn
      .stmt(
        `SELECT * FROM notifications
         WHERE deleted = 0 AND source_host_uuid = ? AND type = ? AND payload_key = ? AND generated_time BETWEEN ? AND ?
           AND status IN ${DUPLICATE_OF_STATUSES}
         ORDER BY id`,
      )
      .all(input.sourceHostUuid, input.type, key, t - windowUs, t + windowUs) as Raw[];
    if (!candidates.length) return undefined;
    const wanted = canonicalJson(input.payload);
    return candidates.find((c) => canonicalJson(JSON.parse(c.payload as string)) === wanted);
  };

  return {
    listNotifications: (q: ListQuery<NotificationFilters>) => listRows(conn, notificationList, q).map(toNotification),

    getNotification: (uuid: string) => {
      const r = getRaw(uuid);
      return r ? toNotification(r) : undefined;
    },

    createNotification(input: NewNotification, duplicateWindowMs: number, now: Date): Promise<CreateNotificationResult> {
      const windowUs = Math.max(0, Math.round(duplicateWindowMs * 1000));
      // Intake shares one BEGIN IMMEDIATE ... COMMIT (one fsync) with the other notifications that arrived meanwhile
      // (group-commit.ts); the promise settles only after that commit. IMMEDIATE takes the write lock before looking,
      // and the batch runs in arrival order, so of two identical notifications, racing or in one batch, one inserts.
      return conn.write((): CreateNotificationResult => {
        const key = payloadKey(input.payload);
        const dup = findDuplicate(input, key, windowUs);
        if (dup) return { created: false, reason: 'duplicate', existing: toNotification(dup) };
        try {
          const r = conn
            .stmt(
              `INSERT INTO notifications (uuid, created_at, type, generated_time, source_host_uuid, payload, payload_key, status)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'new') RETURNING *`,
            )
            .get(input.uuid, us(now), input.type, us(input.generatedTime), input.sourceHostUuid, JSON.stringify(input.payload), key) as Raw;
          return { created: true, notification: toNotification(r) };
        } catch (e) {
          if (isUniqueViolation(e, 'notifications.uuid')) throw conflict(`Notification ${input.uuid} already exists.`);
          throw e;
        }
        // Only the INSERT changes anything, and when it fails SQLite has undone it: no savepoint needed.
      }, false);
    },

    setNotificationStatus(uuid: string, status: NotificationStatus, now: Date, lastError?: string | null): Notification {
      const r = (
        lastError === undefined
          ? conn.stmt('UPDATE notifications SET status = ?, updated_at = ? WHERE uuid = ? AND deleted = 0 RETURNING *').get(status, us(now), uuid)
          : conn
              .stmt('UPDATE notifications SET status = ?, updated_at = ?, last_error = ? WHERE uuid = ? AND deleted = 0 RETURNING *')
              .get(status, us(now), lastError, uuid)
      ) as Raw | undefined;
      if (!r) throw notificationNotFound(uuid);
      return toNotification(r);
    },

    /** Store.finishNotification: runs inside one write (index.ts), so the three statements commit together. */
    finishNotification(
      uuid: string,
      status: NotificationStatus,
      now: Date,
      lastError: string | null | undefined,
      release: { owner: string; hostKey?: string },
    ): Notification {
      // Status and claim release in one UPDATE (SET expressions all read the old row, so both CASEs see the old owner).
      const releaseClaim = `claimed_by = CASE WHEN claimed_by = ? THEN NULL ELSE claimed_by END,
             claim_expires_at = CASE WHEN claimed_by = ? THEN NULL ELSE claim_expires_at END`;
      const r = (
        lastError === undefined
          ? conn
              .stmt(`UPDATE notifications SET status = ?, updated_at = ?, ${releaseClaim} WHERE uuid = ? AND deleted = 0 RETURNING *`)
              .get(status, us(now), release.owner, release.owner, uuid)
          : conn
              .stmt(`UPDATE notifications SET status = ?, updated_at = ?, last_error = ?, ${releaseClaim} WHERE uuid = ? AND deleted = 0 RETURNING *`)
              .get(status, us(now), lastError, release.owner, release.owner, uuid)
      ) as Raw | undefined;
      if (!r) throw notificationNotFound(uuid);
      if (release.hostKey !== undefined) {
        conn.stmt('DELETE FROM host_recovery_claims WHERE recovery_key = ? AND notification_uuid = ?').run(release.hostKey, uuid);
      }
      return toNotification(r);
    },

    settleNewNotification(uuid: string, status: NotificationStatus, now: Date, lastError: string | null): Notification | undefined {
      const t = us(now);
      const r = conn
        .stmt(
          `UPDATE notifications SET status = ?, updated_at = ?, last_error = ?, attempts = attempts + 1
           WHERE uuid = ? AND deleted = 0 AND status = 'new' AND (claimed_by IS NULL OR claim_expires_at < ?)
           RETURNING *`,
        )
        .get(status, t, lastError, uuid, t) as Raw | undefined;
      return r ? toNotification(r) : undefined;
    },

    claimNotification(uuid: string, owner: string, leaseMs: number, now: Date, countAttempt: boolean): Notification | undefined {
      const t = us(now);
      // One statement decides: free, expired, or already ours. Two controllers racing: SQLite serialises the
      // writes, and the second one's WHERE no longer matches.
      const r = conn
        .stmt(
          `UPDATE notifications SET claimed_by = ?, claim_expires_at = ?, attempts = attempts + ?
           WHERE uuid = ? AND deleted = 0 AND (claimed_by IS NULL OR claim_expires_at < ? OR claimed_by = ?)
           RETURNING *`,
        )
        .get(owner, t + Math.round(leaseMs * 1000), countAttempt ? 1 : 0, uuid, t, owner) as Raw | undefined;
      return r ? toNotification(r) : undefined;
    },

    renewNotificationClaim(uuid: string, owner: string, leaseMs: number, now: Date): boolean {
      return (
        conn
          .stmt('UPDATE notifications SET claim_expires_at = ? WHERE uuid = ? AND deleted = 0 AND claimed_by = ?')
          .run(us(now) + Math.round(leaseMs * 1000), uuid, owner).changes === 1
      );
    },

    releaseNotificationClaim(uuid: string, owner: string): void {
      conn.stmt('UPDATE notifications SET claimed_by = NULL, claim_expires_at = NULL WHERE uuid = ? AND claimed_by = ?').run(uuid, owner);
    },

    findNotificationsByStatus(statuses: NotificationStatus[], limit: number): Notification[] {
      if (!statuses.length || !(limit > 0)) return [];
      if (statuses.length === 1) {
        // One status walks the (status, created_at, id) index in order and stops after `limit` rows.
        return (
          conn
            .stmt('SELECT * FROM notifications WHERE deleted = 0 AND status = ? ORDER BY created_at ASC, id ASC LIMIT ?')
            .all(statuses[0], Math.floor(limit)) as Raw[]
        ).map(toNotification);
      }
      // json_each keeps one prepared statement for any number of statuses (SQLite then sorts the matching rows).
      return (
        conn
          .stmt(
            `SELECT * FROM notifications
             WHERE deleted = 0 AND status IN (SELECT value FROM json_each(?))
             ORDER BY created_at ASC, id ASC LIMIT ?`,
          )
          .all(JSON.stringify(statuses), Math.floor(limit)) as Raw[]
      ).map(toNotification);
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
    .prepare(`SELECT id, payload FROM notifications WHERE payload_key IS NULL AND deleted = 0 AND status IN (${statuses})`)
    .all() as { id: number; payload: string }[];
  if (!rows.length) return 0;
  const update = conn.db.prepare('UPDATE notifications SET payload_key = ? WHERE id = ?');
  conn.db.transaction(() => {
    for (const r of rows) update.run(payloadKey(JSON.parse(r.payload)), r.id);
  })();
  conn.noteWrite();
  return rows.length;
}
