// The events producers publish on the bus (bus.ts), and the payloads they carry. Masakari's versioned notification
// names where Masakari has one (segment/host/notification create|update|delete, notification.process), ours
// otherwise. Payloads are plain JSON, shaped like Masakari's objects (snake_case keys, its time format), so that the
// versioned notifications (versioned.ts) and the event stream (GET /v1/x-masakari/events) share them.

import type { Host, Notification, NotificationStatus, Segment } from '../domain/model.ts';
import type { EventBus } from './bus.ts';

/** Every event type published today; docs/observability.md describes each. */
export const EVENT_TYPES = [
  'segment.create.start',
  'segment.create.end',
  'segment.update.start',
  'segment.update.end',
  'segment.delete.start',
  'segment.delete.end',
  'host.create.start',
  'host.create.end',
  'host.update.start',
  'host.update.end',
  'host.delete.start',
  'host.delete.end',
  'notification.create.start',
  'notification.create.end',
  'notification.process.start',
  'notification.process.end',
  'notification.process.error',
  'notification.status',
  'recovery.task.start',
  'recovery.task.end',
  'recovery.task.progress',
  'recovery.instance.state',
] as const;

/** Masakari's object time format (oslo.versionedobjects DateTimeField): seconds, a Z, no fraction. */
export function objectTime(d: Date | null): string | null {
  return d === null ? null : `${d.toISOString().slice(0, 19)}Z`;
}

/** Who asked, for the `_context_*` keys of a versioned notification (only API events have one). */
export interface RequestContextData {
  request_id: string | null;
  user_id: string | null;
  project_id: string | null;
  roles: string[];
  is_admin: boolean;
}

/** Masakari's ExceptionPayload. */
export interface FaultData {
  module_name: string;
  function_name: string;
  exception: string;
  exception_message: string;
  traceback: string;
}

export type SegmentInput = Pick<Segment, 'name' | 'description' | 'recoveryMethod' | 'serviceType' | 'enabled'>;

/** A segment's fields as Masakari's SegmentApiPayload fills them; id and uuid only once the row exists. */
export function segmentData(s: SegmentInput | Segment, opts: { ids?: boolean } = {}): Record<string, unknown> {
  const ids = opts.ids !== false && 'uuid' in s;
  return {
    ...(ids ? { id: s.id, uuid: s.uuid } : {}),
    name: s.name,
    service_type: s.serviceType,
    description: s.description,
    recovery_method: s.recoveryMethod,
    enabled: s.enabled,
  };
}

/** A whole FailoverSegment object as a host payload embeds it (every column). */
export function segmentRecord(s: Segment): Record<string, unknown> {
  return {
    id: s.id,
    uuid: s.uuid,
    name: s.name,
    service_type: s.serviceType,
    description: s.description,
    recovery_method: s.recoveryMethod,
    enabled: s.enabled,
    created_at: objectTime(s.createdAt),
    updated_at: objectTime(s.updatedAt),
    deleted_at: objectTime(s.deletedAt),
    deleted: s.deleted,
  };
}

export type HostInput = Pick<Host, 'name' | 'type' | 'controlAttributes' | 'reserved' | 'onMaintenance'>;

/** A host's fields as Masakari's HostApiPayload fills them, with its segment embedded. */
export function hostData(h: HostInput | Host, segment: Segment, opts: { id?: boolean } = {}): Record<string, unknown> {
  const row = 'uuid' in h;
  return {
    ...(row && opts.id !== false ? { id: h.id } : {}),
    ...(row ? { uuid: h.uuid } : {}),
    name: h.name,
    type: h.type,
    reserved: h.reserved,
    control_attributes: h.controlAttributes,
    on_maintenance: h.onMaintenance,
    failover_segment_id: segment.uuid,
    failover_segment: segmentRecord(segment),
  };
}

/** A notification's fields as Masakari's NotificationApiPayload fills them; `status` as of the event. */
export function notificationData(n: Notification, opts: { ids?: boolean; status?: NotificationStatus } = {}): Record<string, unknown> {
  return {
    ...(opts.ids !== false ? { id: n.id, notification_uuid: n.uuid } : {}),
    type: n.type,
    generated_time: objectTime(n.generatedTime),
    source_host_uuid: n.sourceHostUuid,
    payload: n.payload,
    status: opts.status ?? n.status,
  };
}

/** Publishes and swallows nothing: EventBus.publish itself never throws. A missing bus publishes nothing. */
export type Publish = (type: string, payload: Record<string, unknown>) => void;
export const publisherOf = (bus: EventBus | undefined): Publish => (bus ? (type, payload) => bus.publish(type, payload) : () => undefined);
