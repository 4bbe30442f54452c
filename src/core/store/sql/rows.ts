// Converts between database rows (snake_case, INTEGER/TINYINT booleans, BIGINT microsecond times, JSON text) and the
// domain records of src/core/domain/model.ts, for both dialects.
//
// Row types: each dialect derives its rows from its own drizzle schema (RowOf below: `SELECT *` as the driver returns
// it, keyed by column name). The mappers here take the columns they read, as both dialects declare them; passing a
// dialect's row to a mapper is what checks, at compile time, that the two schemas still agree with these mappers.

import type { Table } from 'drizzle-orm';
import type { Host, Notification, ProgressDetail, Segment, VMove, WorkflowTaskRecord } from '../../domain/model.ts';
import { dateFromMicros, microsOf } from '../../domain/time.ts';

type Columns<T extends Table> = T['_']['columns'];
/** A row of drizzle table T as `SELECT *` returns it: column name -> value (null where the column is nullable). */
export type RowOf<T extends Table> = {
  [K in keyof Columns<T> as Columns<T>[K]['_']['name']]: Columns<T>[K]['_']['notNull'] extends true
    ? Columns<T>[K]['_']['data']
    : Columns<T>[K]['_']['data'] | null;
};

/** Columns every API table has: integer id (the list marker), uuid, times in µs, soft delete. */
interface RowBase {
  id: number;
  uuid: string;
  created_at: number;
  updated_at: number | null;
  deleted_at: number | null;
  deleted: number;
}
export interface SegmentColumns extends RowBase {
  name: string;
  description: string | null;
  recovery_method: string;
  service_type: string;
  enabled: number;
}
export interface HostColumns extends RowBase {
  name: string;
  type: string;
  control_attributes: string;
  reserved: number;
  on_maintenance: number;
  failover_segment_id: string;
}
export interface NotificationColumns extends RowBase {
  type: string;
  generated_time: number;
  source_host_uuid: string;
  payload: string;
  status: string;
  claimed_by: string | null;
  claim_expires_at: number | null;
  attempts: number;
  last_error: string | null;
}
export interface VMoveColumns extends RowBase {
  notification_uuid: string;
  instance_uuid: string;
  instance_name: string | null;
  source_host: string;
  dest_host: string | null;
  start_time: number | null;
  end_time: number | null;
  status: string;
  type: string;
  message: string | null;
}
export interface TaskColumns {
  notification_uuid: string;
  seq: number;
  name: string;
  state: string;
  progress: number;
  details: string;
  result: string | null;
  updated_at: number;
}

export const us = (d: Date): number => microsOf(d);
const date = (v: number): Date => dateFromMicros(v);
const dateOrNull = (v: number | null): Date | null => (v === null || v === undefined ? null : dateFromMicros(v));
const bool = (v: number): boolean => v === 1;

// The mappers below write every field in one object literal (no `...base(r)` spread): lists map 100 rows per
// request, and a spread copies through a temporary object and gives each row a slower (dictionary-ish) shape. The
// field order is the one the domain records always had (id, uuid, createdAt, updatedAt, deletedAt, deleted, ...).

export function toSegment(r: SegmentColumns): Segment {
  return {
    id: r.id,
    uuid: r.uuid,
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
    name: r.name,
    description: r.description ?? null,
    recoveryMethod: r.recovery_method as Segment['recoveryMethod'],
    serviceType: r.service_type,
    enabled: bool(r.enabled),
  };
}

export function toHost(r: HostColumns): Host {
  return {
    id: r.id,
    uuid: r.uuid,
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
    name: r.name,
    type: r.type,
    controlAttributes: r.control_attributes,
    reserved: bool(r.reserved),
    onMaintenance: bool(r.on_maintenance),
    segmentUuid: r.failover_segment_id,
  };
}

export function toNotification(r: NotificationColumns): Notification {
  return {
    id: r.id,
    uuid: r.uuid,
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
    type: r.type as Notification['type'],
    generatedTime: date(r.generated_time),
    sourceHostUuid: r.source_host_uuid,
    payload: JSON.parse(r.payload) as Notification['payload'],
    status: r.status as Notification['status'],
    claimedBy: r.claimed_by ?? null,
    claimExpiresAt: dateOrNull(r.claim_expires_at),
    attempts: r.attempts,
    lastError: r.last_error ?? null,
  };
}

export function toVMove(r: VMoveColumns): VMove {
  return {
    id: r.id,
    uuid: r.uuid,
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
    notificationUuid: r.notification_uuid,
    instanceUuid: r.instance_uuid,
    instanceName: r.instance_name ?? null,
    sourceHost: r.source_host,
    destHost: r.dest_host ?? null,
    startTime: dateOrNull(r.start_time),
    endTime: dateOrNull(r.end_time),
    status: r.status as VMove['status'],
    type: r.type as VMove['type'],
    message: r.message ?? null,
  };
}

/** Progress details are stored as JSON with the timestamp in microseconds. */
interface StoredDetail {
  t: number;
  m: string;
  p: number;
}

export function toTask(r: TaskColumns): WorkflowTaskRecord {
  const details = (JSON.parse(r.details) as StoredDetail[]).map((d) => ({
    timestamp: dateFromMicros(d.t),
    message: d.m,
    progress: d.p,
  }));
  return {
    notificationUuid: r.notification_uuid,
    seq: r.seq,
    name: r.name,
    state: r.state as WorkflowTaskRecord['state'],
    progress: r.progress,
    details,
    result: r.result === null || r.result === undefined ? undefined : JSON.parse(r.result),
    updatedAt: date(r.updated_at),
  };
}

export interface TaskPatch {
  state?: WorkflowTaskRecord['state'];
  progress?: number;
  addDetail?: ProgressDetail;
  result?: unknown;
}

/**
 * The new values of a task's state, progress, details and result columns (in that order) after `patch`: what the
 * patch leaves out stays as in `old`; a detail is appended to the stored list; result `undefined` clears it.
 */
export function patchedTask(old: Pick<TaskColumns, 'state' | 'progress' | 'details' | 'result'>, patch: TaskPatch): [string, number, string, string | null] {
  let details = old.details;
  if (patch.addDetail) {
    const list = JSON.parse(details) as StoredDetail[];
    list.push({ t: us(patch.addDetail.timestamp), m: patch.addDetail.message, p: patch.addDetail.progress });
    details = JSON.stringify(list);
  }
  return [
    patch.state ?? old.state,
    patch.progress ?? old.progress,
    details,
    'result' in patch ? (patch.result === undefined ? null : JSON.stringify(patch.result)) : old.result,
  ];
}
