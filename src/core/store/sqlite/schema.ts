// The SQLite tables, as drizzle declarations. This file is the source of truth for the columns; the committed SQL
// migrations in ./migrations/ create exactly these tables (drizzle-kit can diff this file against them).
//
// Conventions:
// - Every time column is an INTEGER of microseconds since the epoch (UTC): sorts correctly as a number and keeps the
//   microseconds Masakari prints (see src/core/domain/time.ts).
// - API tables have an integer autoincrement `id` (Masakari's list marker) and a `uuid`; rows are soft-deleted
//   (`deleted` = 1, `deleted_at`). Names are unique only among live rows (partial unique indexes), so the name of a
//   deleted segment or host can be reused.
// - Indexes used by list queries are partial (`WHERE deleted = 0`) and the queries say `deleted = 0` literally, so
//   SQLite picks them.

import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { RowOf } from '../sql/rows.ts';

const live = sql`deleted = 0`;

const rowColumns = () => ({
  id: integer('id').primaryKey({ autoIncrement: true }),
  uuid: text('uuid').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at'),
  deletedAt: integer('deleted_at'),
  deleted: integer('deleted').notNull().default(0),
});

export const failoverSegments = sqliteTable(
  'failover_segments',
  {
    ...rowColumns(),
    name: text('name').notNull(),
    description: text('description'),
    recoveryMethod: text('recovery_method').notNull(),
    serviceType: text('service_type').notNull(),
    enabled: integer('enabled').notNull().default(1),
  },
  (t) => [
    uniqueIndex('failover_segments_uuid').on(t.uuid),
    uniqueIndex('failover_segments_live_name').on(t.name).where(live),
    index('failover_segments_live_created').on(t.createdAt, t.id).where(live),
  ],
);

export const hosts = sqliteTable(
  'hosts',
  {
    ...rowColumns(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    controlAttributes: text('control_attributes').notNull(),
    reserved: integer('reserved').notNull().default(0),
    onMaintenance: integer('on_maintenance').notNull().default(0),
    segmentUuid: text('failover_segment_id')
      .notNull()
      .references(() => failoverSegments.uuid),
  },
  (t) => [
    uniqueIndex('hosts_uuid').on(t.uuid),
    uniqueIndex('hosts_live_name').on(t.name).where(live),
    index('hosts_live_segment_created').on(t.segmentUuid, t.createdAt, t.id).where(live),
  ],
);

export const notifications = sqliteTable(
  'notifications',
  {
    ...rowColumns(),
    type: text('type').notNull(),
    generatedTime: integer('generated_time').notNull(),
    sourceHostUuid: text('source_host_uuid').notNull(),
    /** The payload as received (JSON text, key order kept: the API echoes it). */
    payload: text('payload').notNull(),
    /**
     * Hash of the payload's canonical JSON (store/payload-key.ts): duplicate detection looks rows up by it instead
     * of comparing every payload of the host in the time window. NULL only on rows from before migration 0001 that
     * were already finished (open backfills the others).
     */
    payloadKey: text('payload_key'),
    status: text('status').notNull(),
    claimedBy: text('claimed_by'),
    claimExpiresAt: integer('claim_expires_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('notifications_uuid').on(t.uuid),
    index('notifications_live_created').on(t.createdAt, t.id).where(live),
    index('notifications_live_status_created').on(t.status, t.createdAt, t.id).where(live),
    index('notifications_live_generated').on(t.generatedTime, t.id).where(live),
    index('notifications_live_updated').on(t.updatedAt, t.id).where(live),
    // Lists filtered by source host (the API's source_host_uuid filter) in the default order.
    index('notifications_live_source_created').on(t.sourceHostUuid, t.createdAt, t.id).where(live),
    // Duplicate detection: same source host, type and payload, generated_time in a window, status new or running.
    // Partial on those statuses; with the payload key a flood costs each insert one short index probe (0001).
    index('notifications_duplicate_candidates')
      .on(t.sourceHostUuid, t.type, t.payloadKey, t.generatedTime)
      .where(sql`deleted = 0 AND status IN ('new', 'running')`),
  ],
);

export const vmoves = sqliteTable(
  'vmoves',
  {
    ...rowColumns(),
    notificationUuid: text('notification_uuid')
      .notNull()
      .references(() => notifications.uuid),
    instanceUuid: text('instance_uuid').notNull(),
    instanceName: text('instance_name'),
    sourceHost: text('source_host').notNull(),
    destHost: text('dest_host'),
    startTime: integer('start_time'),
    endTime: integer('end_time'),
    status: text('status').notNull(),
    type: text('type').notNull(),
    message: text('message'),
  },
  (t) => [uniqueIndex('vmoves_uuid').on(t.uuid), index('vmoves_live_notification_created').on(t.notificationUuid, t.createdAt, t.id).where(live)],
);

export const workflowTasks = sqliteTable(
  'workflow_tasks',
  {
    notificationUuid: text('notification_uuid')
      .notNull()
      .references(() => notifications.uuid),
    seq: integer('seq').notNull(),
    name: text('name').notNull(),
    state: text('state').notNull(),
    progress: real('progress').notNull().default(0),
    /** JSON array of {timestamp (µs), message, progress}. */
    details: text('details').notNull().default('[]'),
    /** JSON, or NULL when the task stored no result. */
    result: text('result'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.notificationUuid, t.seq] })],
);

/** One workflow per failed host or instance: recovery_key is the host's name, or `instance:<uuid>`. */
export const hostRecoveryClaims = sqliteTable('host_recovery_claims', {
  recoveryKey: text('recovery_key').primaryKey(),
  notificationUuid: text('notification_uuid').notNull(),
  owner: text('owner').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/** The latest heartbeat of each host's compute agent (docs/protection.md): one row per host, replaced by the next. */
export const agentHeartbeats = sqliteTable('agent_heartbeats', {
  host: text('host').primaryKey(),
  receivedAt: integer('received_at').notNull(),
  /** The heartbeat as the agent sent it (JSON). */
  body: text('body').notNull(),
});

/**
 * The event stream's history (GET /v1/x-masakari/events, src/core/observe/history.ts): the newest events.history_size
 * bus events. The AUTOINCREMENT id is the stream's event id: never reused, increasing across controllers sharing the
 * store. `at` in µs; `payload` JSON.
 */
export const events = sqliteTable('events', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  type: text('type').notNull(),
  at: integer('at').notNull(),
  payload: text('payload').notNull(),
});

/** Bookkeeping of applied migrations (our own migrator, not drizzle's). */
export const schemaMigrations = sqliteTable('schema_migrations', {
  name: text('name').primaryKey(),
  appliedAt: integer('applied_at').notNull(),
});

// Rows as `SELECT *` returns them (column names, not the property names above): what the repositories read.
export type SegmentRow = RowOf<typeof failoverSegments>;
export type HostRow = RowOf<typeof hosts>;
export type NotificationRow = RowOf<typeof notifications>;
export type VMoveRow = RowOf<typeof vmoves>;
export type TaskRow = RowOf<typeof workflowTasks>;
export type HeartbeatRow = RowOf<typeof agentHeartbeats>;
export type EventRow = RowOf<typeof events>;
