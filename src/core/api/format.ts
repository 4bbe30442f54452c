// Response bodies in Masakari's wire format: field names, field order and timestamp formats as Masakari 14 prints
// them (naive UTC "YYYY-MM-DDTHH:MM:SS.ffffff"; workflow detail timestamps with a space, str(datetime)).

import { formatIsoMicros, microsOf } from '../domain/time.ts';
import type { Host, Notification, Segment, VMove, WorkflowTaskRecord } from '../domain/model.ts';
import { pyFloatStr } from './validation/pyrepr.ts';

// Formatted timestamps by their microsecond value. A list formats the same stored times on every request (100 rows,
// 2-4 times each), and a Map hit is several times cheaper than formatting; the text depends on the value only.
// Bounded: cleared when full (about 1 MB at most), since a miss only costs one formatting.
const tsCache = new Map<number, string>();
const TS_CACHE_MAX = 10_000;

function ts(d: Date | null): string | null {
  if (!d) return null;
  const us = microsOf(d);
  let text = tsCache.get(us);
  if (text === undefined) {
    text = formatIsoMicros(d);
    if (tsCache.size >= TS_CACHE_MAX) tsCache.clear();
    tsCache.set(us, text);
  }
  return text;
}

export function segmentView(s: Segment) {
  return {
    id: s.id,
    uuid: s.uuid,
    name: s.name,
    service_type: s.serviceType,
    enabled: s.enabled,
    description: s.description,
    recovery_method: s.recoveryMethod,
    created_at: ts(s.createdAt),
    updated_at: ts(s.updatedAt),
    deleted_at: ts(s.deletedAt),
    deleted: s.deleted,
  };
}

/** `segmentJson`: the segment's view when the caller already has it (a host list embeds one segment in every host). */
export function hostView(h: Host, segment: Segment, segmentJson: ReturnType<typeof segmentView> = segmentView(segment)) {
  return {
    id: h.id,
    uuid: h.uuid,
    name: h.name,
    failover_segment_id: h.segmentUuid,
    failover_segment: segmentJson,
    type: h.type,
    reserved: h.reserved,
    control_attributes: h.controlAttributes,
    on_maintenance: h.onMaintenance,
    created_at: ts(h.createdAt),
    updated_at: ts(h.updatedAt),
    deleted_at: ts(h.deletedAt),
    deleted: h.deleted,
  };
}

/**
 * A float that must print with a decimal point (Python prints 1.0, JSON.stringify prints 1). Serialised as a
 * marker string first and turned into a bare number by `toJson`.
 */
const FLOAT_MARK = '\u0000float:';
const floatMarker = (n: number) => `${FLOAT_MARK}${pyFloatStr(n)}`;
// JSON.stringify escapes U+0000 as \u0000.
const FLOAT_MARK_RE = /"\\u0000float:([-0-9.e+]+)"/g;

/** JSON text of a response body; turns float markers into Python-style floats. */
export function toJson(body: unknown): string {
  const text = JSON.stringify(body);
  return text.includes('\\u0000float:') ? text.replace(FLOAT_MARK_RE, '$1') : text;
}

/** str(datetime) in Python: "2026-11-22 02:18:30.982691" (no zone, space separator; no fraction when it is 0). */
function pyDatetimeStr(d: Date): string {
  const iso = formatIsoMicros(d).replace('T', ' ');
  return iso.endsWith('.000000') ? iso.slice(0, -7) : iso;
}

export function workflowDetailsView(tasks: WorkflowTaskRecord[]) {
  return tasks.map((t) => ({
    name: t.name,
    progress: floatMarker(t.progress),
    progress_details: t.details.map((d) => ({
      timestamp: pyDatetimeStr(d.timestamp),
      progress: pyFloatStr(d.progress),
      message: d.message,
    })),
    state: t.state,
  }));
}

// Two literals rather than one with a conditional spread: a spread in the middle of a literal builds every object
// the slow way (the list builds one per row), and the key order (recovery_workflow_details before created_at) is
// part of the wire format.
export function notificationView(n: Notification, tasks?: WorkflowTaskRecord[]) {
  if (tasks) {
    return {
      id: n.id,
      notification_uuid: n.uuid,
      generated_time: ts(n.generatedTime),
      source_host_uuid: n.sourceHostUuid,
      type: n.type,
      payload: n.payload,
      status: n.status,
      recovery_workflow_details: workflowDetailsView(tasks),
      created_at: ts(n.createdAt),
      updated_at: ts(n.updatedAt),
      deleted_at: ts(n.deletedAt),
      deleted: n.deleted,
    };
  }
  return {
    id: n.id,
    notification_uuid: n.uuid,
    generated_time: ts(n.generatedTime),
    source_host_uuid: n.sourceHostUuid,
    type: n.type,
    payload: n.payload,
    status: n.status,
    created_at: ts(n.createdAt),
    updated_at: ts(n.updatedAt),
    deleted_at: ts(n.deletedAt),
    deleted: n.deleted,
  };
}

export function vmoveView(v: VMove) {
  return {
    id: v.id,
    uuid: v.uuid,
    notification_uuid: v.notificationUuid,
    instance_uuid: v.instanceUuid,
    instance_name: v.instanceName,
    source_host: v.sourceHost,
    dest_host: v.destHost,
    start_time: ts(v.startTime),
    end_time: ts(v.endTime),
    type: v.type,
    status: v.status,
    message: v.message,
    created_at: ts(v.createdAt),
    updated_at: ts(v.updatedAt),
    deleted_at: ts(v.deletedAt),
    deleted: v.deleted,
  };
}
