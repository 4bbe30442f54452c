// The MySQL/MariaDB tables, as drizzle declarations: the same tables, columns and meaning as SQLite's schema, so the
// row <-> record code (../sql/rows.ts) and the list SQL (../sql/listing.ts) serve both dialects.
// The committed migrations in ./migrations/ create exactly these tables.
//
// Differences from SQLite, and why:
// - Times are BIGINT microseconds since the epoch (UTC), exactly as SQLite's INTEGER: one representation for both
//   dialects, no time-zone conversion anywhere (DATETIME(6) would depend on the session time zone).
// - MySQL has no partial indexes. Names must be unique among live rows only, so each table with a unique name has
//   a STORED generated column `live_name` = name while `deleted = 0`, NULL once deleted, with a UNIQUE index on
//   it: a UNIQUE index allows any number of NULLs, so deleted rows never collide and a deleted name can be reused.
// - The list indexes cannot say `WHERE deleted = 0`; they start with `deleted` instead (after an equality column,
//   if any), so `deleted = 0 AND …  ORDER BY created_at, id` is still one range scan in index order.
// - Text columns that are compared or sorted use utf8mb4_bin (set per table in the migration): byte-wise order and
//   case-sensitive names, exactly as SQLite's BINARY collation, so both stores sort and conflict alike.
// - `notification_intake_locks`: one row per (source host, type), written inside createNotification's transaction
//   so that concurrent intakes of the same kind serialise on it (see intake.ts).

import { sql } from 'drizzle-orm';
import { bigint, double, index, int, mediumtext, mysqlTable, primaryKey, text, tinyint, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import type { RowOf } from '../sql/rows.ts';

const rowColumns = () => ({
  id: int('id').primaryKey().autoincrement(),
  uuid: varchar('uuid', { length: 36 }).notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }),
  deletedAt: bigint('deleted_at', { mode: 'number' }),
  deleted: tinyint('deleted').notNull().default(0),
});

/** NULL for deleted rows, so a UNIQUE index on it only sees live names. */
const liveName = () => varchar('live_name', { length: 255 }).generatedAlwaysAs(sql`(case when deleted = 0 then name end)`, { mode: 'stored' });

export const failoverSegments = mysqlTable(
  'failover_segments',
  {
    ...rowColumns(),
    name: varchar('name', { length: 255 }).notNull(),
    liveName: liveName(),
    description: text('description'),
    recoveryMethod: varchar('recovery_method', { length: 255 }).notNull(),
    serviceType: varchar('service_type', { length: 255 }).notNull(),
    enabled: tinyint('enabled').notNull().default(1),
  },
  (t) => [
    uniqueIndex('failover_segments_uuid').on(t.uuid),
    uniqueIndex('failover_segments_live_name').on(t.liveName),
    index('failover_segments_live_created').on(t.deleted, t.createdAt, t.id),
  ],
);

export const hosts = mysqlTable(
  'hosts',
  {
    ...rowColumns(),
    name: varchar('name', { length: 255 }).notNull(),
    liveName: liveName(),
    type: varchar('type', { length: 255 }).notNull(),
    controlAttributes: text('control_attributes').notNull(),
    reserved: tinyint('reserved').notNull().default(0),
    onMaintenance: tinyint('on_maintenance').notNull().default(0),
    segmentUuid: varchar('failover_segment_id', { length: 36 })
      .notNull()
      .references(() => failoverSegments.uuid),
  },
  (t) => [
    uniqueIndex('hosts_uuid').on(t.uuid),
    uniqueIndex('hosts_live_name').on(t.liveName),
    index('hosts_live_segment_created').on(t.segmentUuid, t.deleted, t.createdAt, t.id),
  ],
);

export const notifications = mysqlTable(
  'notifications',
  {
    ...rowColumns(),
    type: varchar('type', { length: 36 }).notNull(),
    generatedTime: bigint('generated_time', { mode: 'number' }).notNull(),
    sourceHostUuid: varchar('source_host_uuid', { length: 36 }).notNull(),
    /** The payload as received (JSON text, key order kept: the API echoes it). */
    payload: mediumtext('payload').notNull(),
    /** Hash of the payload's canonical JSON (store/payload-key.ts), for duplicate detection (NULL only on old finished rows). */
    payloadKey: varchar('payload_key', { length: 64 }),
    status: varchar('status', { length: 16 }).notNull(),
    claimedBy: varchar('claimed_by', { length: 255 }),
    claimExpiresAt: bigint('claim_expires_at', { mode: 'number' }),
    attempts: int('attempts').notNull().default(0),
    lastError: mediumtext('last_error'),
  },
  (t) => [
    uniqueIndex('notifications_uuid').on(t.uuid),
    index('notifications_live_created').on(t.deleted, t.createdAt, t.id),
    index('notifications_live_status_created').on(t.status, t.deleted, t.createdAt, t.id),
    index('notifications_live_generated').on(t.deleted, t.generatedTime, t.id),
    index('notifications_live_updated').on(t.deleted, t.updatedAt, t.id),
    index('notifications_live_source_created').on(t.sourceHostUuid, t.deleted, t.createdAt, t.id),
    // Duplicate detection: one short range per live status for this host, type and payload (MySQL has no partial
    // indexes; SQLite's is partial instead) (0001).
    index('notifications_duplicate_candidates').on(t.sourceHostUuid, t.type, t.payloadKey, t.deleted, t.status, t.generatedTime),
  ],
);

export const vmoves = mysqlTable(
  'vmoves',
  {
    ...rowColumns(),
    notificationUuid: varchar('notification_uuid', { length: 36 })
      .notNull()
      .references(() => notifications.uuid),
    instanceUuid: varchar('instance_uuid', { length: 36 }).notNull(),
    instanceName: varchar('instance_name', { length: 255 }),
    sourceHost: varchar('source_host', { length: 255 }).notNull(),
    destHost: varchar('dest_host', { length: 255 }),
    startTime: bigint('start_time', { mode: 'number' }),
    endTime: bigint('end_time', { mode: 'number' }),
    status: varchar('status', { length: 16 }).notNull(),
    type: varchar('type', { length: 36 }).notNull(),
    message: mediumtext('message'),
  },
  (t) => [uniqueIndex('vmoves_uuid').on(t.uuid), index('vmoves_live_notification_created').on(t.notificationUuid, t.deleted, t.createdAt, t.id)],
);

export const workflowTasks = mysqlTable(
  'workflow_tasks',
  {
    notificationUuid: varchar('notification_uuid', { length: 36 })
      .notNull()
      .references(() => notifications.uuid),
    seq: int('seq').notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    state: varchar('state', { length: 16 }).notNull(),
    progress: double('progress').notNull().default(0),
    /** JSON array of {t (µs), m, p}; no column default (MySQL < 8.0.13 has none for TEXT): inserts always set it. */
    details: mediumtext('details').notNull(),
    /** JSON, or NULL when the task stored no result. */
    result: mediumtext('result'),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.notificationUuid, t.seq] })],
);

/** One workflow per failed host or instance: recovery_key is the host's name, or `instance:<uuid>`. */
export const hostRecoveryClaims = mysqlTable('host_recovery_claims', {
  recoveryKey: varchar('recovery_key', { length: 255 }).primaryKey(),
  notificationUuid: varchar('notification_uuid', { length: 36 }).notNull(),
  owner: varchar('owner', { length: 255 }).notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
});

/** Serialises notification intake per (source host, type) across controllers; `bumps` is written by every intake. */
export const notificationIntakeLocks = mysqlTable(
  'notification_intake_locks',
  {
    sourceHostUuid: varchar('source_host_uuid', { length: 36 }).notNull(),
    type: varchar('type', { length: 36 }).notNull(),
    bumps: bigint('bumps', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.sourceHostUuid, t.type] })],
);

/** The latest heartbeat of each host's compute agent (docs/protection.md): one row per host, replaced by the next. */
export const agentHeartbeats = mysqlTable('agent_heartbeats', {
  host: varchar('host', { length: 255 }).primaryKey(),
  receivedAt: bigint('received_at', { mode: 'number' }).notNull(),
  /** The heartbeat as the agent sent it (JSON). */
  body: mediumtext('body').notNull(),
});

/** The event stream's history (see ../sqlite/schema.ts): the AUTO_INCREMENT id is the stream's event id. */
export const events = mysqlTable('events', {
  id: bigint('id', { mode: 'number' }).autoincrement().primaryKey(),
  type: varchar('type', { length: 255 }).notNull(),
  at: bigint('at', { mode: 'number' }).notNull(),
  payload: mediumtext('payload').notNull(),
});

/** Bookkeeping of applied migrations (our own migrator, not drizzle's). */
export const schemaMigrations = mysqlTable('schema_migrations', {
  name: varchar('name', { length: 255 }).primaryKey(),
  appliedAt: bigint('applied_at', { mode: 'number' }).notNull(),
});

// Rows as `SELECT *` returns them (column names, not the property names above): what the repositories read.
export type SegmentRow = RowOf<typeof failoverSegments>;
export type HostRow = RowOf<typeof hosts>;
export type NotificationRow = RowOf<typeof notifications>;
export type VMoveRow = RowOf<typeof vmoves>;
export type TaskRow = RowOf<typeof workflowTasks>;
export type HeartbeatRow = RowOf<typeof agentHeartbeats>;
export type EventRow = RowOf<typeof events>;
