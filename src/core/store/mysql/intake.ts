// Notification intake on MySQL: durable, with duplicate detection by payload key (../payload-key.ts), atomic across
// controllers sharing the database.

import { duplicateNotification } from '../sql/errors.ts';
import { toNotification, us } from '../sql/rows.ts';
import { BACKFILL_STATUSES, DUPLICATE_OF_STATUSES, payloadKey, samePayload } from '../payload-key.ts';
import type { CreateNotificationResult, IntakeStore } from '../types.ts';
import { isDuplicateKey, type Db } from './connection.ts';
import type { NotificationRow } from './schema.ts';

export function intakeRepo(db: Db): IntakeStore {
  return {
    createNotification: (input, duplicateWindowMs, now) => {
      const windowUs = Math.max(0, Math.round(duplicateWindowMs * 1000));
      const t = us(input.generatedTime);
      return db.tx(
        async (c, { retry }): Promise<CreateNotificationResult> => {
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
          // An earlier attempt whose COMMIT had an unknown outcome (its Galera node failed during it) may have stored
          // this very notification: then that is the answer, not a duplicate of itself.
          if (retry) {
            const [mine] = await c.rows<NotificationRow>('SELECT * FROM notifications WHERE uuid = ?', [input.uuid]);
            if (mine) return { created: true, notification: toNotification(mine) };
          }
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
        },
        { idempotent: true },
      );
      // Durable on resolve: COMMIT returned, and with innodb_flush_log_at_trx_commit=1 (the default) the redo log
      // is fsynced before the server acknowledges it.
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
