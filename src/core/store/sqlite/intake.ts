// Notification intake: durable, with duplicate detection by payload key (../payload-key.ts).

import { duplicateNotification } from '../sql/errors.ts';
import { toNotification, us } from '../sql/rows.ts';
import { BACKFILL_STATUSES, DUPLICATE_OF_STATUSES, payloadKey, samePayload } from '../payload-key.ts';
import type { IntakeStore, NewNotification } from '../types.ts';
import { isUniqueViolation, type Connection } from './connection.ts';
import type { NotificationRow } from './schema.ts';

export function intakeRepo(conn: Connection): IntakeStore {
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

  return {
    createNotification: (input, duplicateWindowMs, now) => {
      const windowUs = Math.max(0, Math.round(duplicateWindowMs * 1000));
      // Intake shares one BEGIN IMMEDIATE ... COMMIT (one fsync) with the other notifications that arrived meanwhile
      // (group-commit.ts); the promise settles only after that commit. IMMEDIATE takes the write lock before looking,
      // and the batch runs in arrival order, so of two identical notifications, racing or in one batch, one inserts.
      // Only the INSERT changes anything, and when it fails SQLite has undone it: no savepoint needed.
      return conn.write(() => {
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
      }, false);
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
