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

function base(r: Raw) {
  return {
    id: r.id as number,
    uuid: str(r.uuid),
    createdAt: date(r.created_at),
    updatedAt: dateOrNull(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
    deleted: bool(r.deleted),
  };
}

export function toSegment(r: Raw): Segment {
  return {
    ...base(r),
    name: str(r.name),
    description: strOrNull(r.description),
    recoveryMethod: str(r.recovery_method) as Segment['recoveryMethod'],
    serviceType: str(r.service_type),
    enabled: bool(r.enabled),
  };
}

export function toHost(r: Raw): Host {
  return {
    ...base(r),
    name: str(r.name),
    type: str(r.type),
    controlAttributes: str(r.control_attributes),
    reserved: bool(r.reserved),
    onMaintenance: bool(r.on_maintenance),
    segmentUuid: str(r.failover_segment_id),
  };
}

export function toNotification(r: Raw): Notification {
  return {
    ...base(r),
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
    ...base(r),
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
