// Converts between database rows (snake_case, INTEGER booleans, INTEGER microsecond times, JSON text) and the
// domain records of src/core/domain/model.ts.

import type { Host, Notification, Segment, VMove, WorkflowTaskRecord, ProgressDetail } from '../../domain/model.ts';
import { dateFromMicros, microsOf } from '../../domain/time.ts';

export type Raw = Record<string, unknown>;

export const us = (d: Date): number => microsOf(d);
const date = (v: unknown): Date => dateFromMicros(v as number);
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : dateFromMicros(v as number));
const bool = (v: unknown): boolean => v === 1 || v === 1n || v === true;
const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));

// The mappers below write every field in one object literal (no `...base(r)` spread): lists map 100 rows per
// request, and a spread copies through a temporary object and gives each row a slower (dictionary-ish) shape. The
// field order is the one the domain records always had (id, uuid, createdAt, updatedAt, deletedAt, deleted, ...).

export function toSegment(r: Raw): Segment {
  return {
    id: r.id as number,
    uuid: str(r.uuid),
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
    name: str(r.name),
    description: strOrNull(r.description),
    recoveryMethod: str(r.recovery_method) as Segment['recoveryMethod'],
    serviceType: str(r.service_type),
    enabled: bool(r.enabled),
  };
}

export function toHost(r: Raw): Host {
  return {
    id: r.id as number,
    uuid: str(r.uuid),
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
    name: str(r.name),
    type: str(r.type),
    controlAttributes: str(r.control_attributes),
    reserved: bool(r.reserved),
    onMaintenance: bool(r.on_maintenance),
    segmentUuid: str(r.failover_segment_id),
  };
}

/**
 * Positions of a table's columns in the raw (array) rows of a `SELECT *` statement. Lists read rows with
 * better-sqlite3's `.raw(true)`: building 100 arrays is about half the cost of building 100 keyed objects.
 */
export type Cols = Readonly<Record<string, number>>;

export function segmentAt(a: readonly unknown[], c: Cols): Segment {
  return {
    id: a[c.id!] as number,
    uuid: str(a[c.uuid!]),
    createdAt: date(a[c.created_at!]),
    updatedAt: dateOrNull(a[c.updated_at!]),
    deletedAt: dateOrNull(a[c.deleted_at!]),
    deleted: bool(a[c.deleted!]),
    name: str(a[c.name!]),
    description: strOrNull(a[c.description!]),
    recoveryMethod: str(a[c.recovery_method!]) as Segment['recoveryMethod'],
    serviceType: str(a[c.service_type!]),
    enabled: bool(a[c.enabled!]),
  };
}

export function hostAt(a: readonly unknown[], c: Cols): Host {
  return {
    id: a[c.id!] as number,
    uuid: str(a[c.uuid!]),
    createdAt: date(a[c.created_at!]),
    updatedAt: dateOrNull(a[c.updated_at!]),
    deletedAt: dateOrNull(a[c.deleted_at!]),
    deleted: bool(a[c.deleted!]),
    name: str(a[c.name!]),
    type: str(a[c.type!]),
    controlAttributes: str(a[c.control_attributes!]),
    reserved: bool(a[c.reserved!]),
    onMaintenance: bool(a[c.on_maintenance!]),
    segmentUuid: str(a[c.failover_segment_id!]),
  };
}

export function toNotification(r: Raw): Notification {
  return {
    id: r.id as number,
    uuid: str(r.uuid),
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
    type: str(r.type) as Notification['type'],
    generatedTime: date(r.generated_time),
    sourceHostUuid: str(r.source_host_uuid),
    payload: JSON.parse(str(r.payload)) as Notification['payload'],
    status: str(r.status) as Notification['status'],
    claimedBy: strOrNull(r.claimed_by),
    claimExpiresAt: dateOrNull(r.claim_expires_at),
    attempts: r.attempts as number,
    lastError: strOrNull(r.last_error),
  };
}

export function toVMove(r: Raw): VMove {
  return {
    id: r.id as number,
    uuid: str(r.uuid),
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
    notificationUuid: str(r.notification_uuid),
    instanceUuid: str(r.instance_uuid),
    instanceName: strOrNull(r.instance_name),
    sourceHost: str(r.source_host),
    destHost: strOrNull(r.dest_host),
    startTime: dateOrNull(r.start_time),
    endTime: dateOrNull(r.end_time),
    status: str(r.status) as VMove['status'],
    type: str(r.type) as VMove['type'],
    message: strOrNull(r.message),
  };
}

/** Progress details are stored as JSON with the timestamp in microseconds. */
export interface StoredDetail {
  t: number;
  m: string;
  p: number;
}

export const detailToStored = (d: ProgressDetail): StoredDetail => ({ t: us(d.timestamp), m: d.message, p: d.progress });

export function toTask(r: Raw): WorkflowTaskRecord {
  const details = (JSON.parse(str(r.details)) as StoredDetail[]).map((d) => ({
    timestamp: dateFromMicros(d.t),
    message: d.m,
    progress: d.p,
  }));
  return {
    notificationUuid: str(r.notification_uuid),
    seq: r.seq as number,
    name: str(r.name),
    state: str(r.state) as WorkflowTaskRecord['state'],
    progress: r.progress as number,
    details,
    result: r.result === null || r.result === undefined ? undefined : JSON.parse(str(r.result)),
    updatedAt: date(r.updated_at),
  };
}

/** JSON with object keys sorted at every level: two payloads are identical when their canonical texts are equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
