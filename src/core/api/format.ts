// Response bodies in Masakari's wire format: field names, field order and timestamp formats as Masakari 14 prints
// them (naive UTC "YYYY-MM-DDTHH:MM:SS.ffffff"; workflow detail timestamps with a space, str(datetime)).

import { formatIsoMicros } from '../domain/time.ts';
import type { Host, Notification, Segment, VMove, WorkflowTaskRecord } from '../domain/model.ts';
import { pyFloatStr } from './validation/pyrepr.ts';

const ts = (d: Date | null): string | null => (d ? formatIsoMicros(d) : null);

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

export function hostView(h: Host, segment: Segment) {
  return {
    id: h.id,
    uuid: h.uuid,
    name: h.name,
    failover_segment_id: h.segmentUuid,
    failover_segment: segmentView(segment),
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

export function notificationView(n: Notification, tasks?: WorkflowTaskRecord[]) {
  return {
    id: n.id,
    notification_uuid: n.uuid,
    generated_time: ts(n.generatedTime),
    source_host_uuid: n.sourceHostUuid,
    type: n.type,
    payload: n.payload,
    status: n.status,
    ...(tasks ? { recovery_workflow_details: workflowDetailsView(tasks) } : {}),
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
