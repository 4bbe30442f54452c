// Masakari's versioned notifications, built from our bus events: the event types, payload objects (name, namespace,
// version, data), priorities and publisher_id that Masakari 14 emits (masakari/notifications/objects/, its
// api/utils.py and engine/utils.py), and oslo.messaging's v2 message envelope around them (what its Notifier and
// rabbit driver put on the wire: notify/notifier.py _notify, _drivers/amqpdriver.py _send, common.serialize_msg).
// A consumer written for Masakari cannot tell these from Masakari's own. Only Masakari's events are sent; our own
// (recovery.*, notification.status) stay on the event stream.

import { randomUUID } from 'node:crypto';
import type { BusEvent } from './bus.ts';
import type { FaultData, RequestContextData } from './events.ts';

/** What oslo.messaging's Notifier builds before the driver packs it (notify/notifier.py _notify). */
export interface VersionedNotification {
  message_id: string;
  publisher_id: string;
  event_type: string;
  priority: 'INFO' | 'ERROR';
  payload: MasakariObject;
  timestamp: string;
}

export interface MasakariObject {
  'masakari_object.name': string;
  'masakari_object.namespace': 'masakari';
  'masakari_object.version': string;
  'masakari_object.data': Record<string, unknown>;
}

const obj = (name: string, version: string, data: Record<string, unknown>): MasakariObject => ({
  'masakari_object.name': name,
  'masakari_object.namespace': 'masakari',
  'masakari_object.version': version,
  'masakari_object.data': data,
});

/**
 * Object versions as Masakari 14 registers them. Its documentation's samples are older in two places: the segment
 * payload and the embedded FailoverSegment say 1.0 there and lack `enabled` (added in 1.1, with the segment's
 * enabled flag). docs/observability.md lists the differences.
 */
export const OBJECT_VERSIONS = {
  SegmentApiPayload: '1.1',
  HostApiPayload: '1.0',
  FailoverSegment: '1.1',
  NotificationApiPayload: '1.0',
  ExceptionPayload: '1.0',
} as const;

type Kind = 'segment' | 'host' | 'notification';
const KIND: Record<Kind, { payload: keyof typeof OBJECT_VERSIONS; binary: (action: string) => string }> = {
  segment: { payload: 'SegmentApiPayload', binary: () => 'masakari-api' },
  host: { payload: 'HostApiPayload', binary: () => 'masakari-api' },
  // notification.create is the API's; notification.process the engine's.
  notification: { payload: 'NotificationApiPayload', binary: (action) => (action === 'process' ? 'masakari-engine' : 'masakari-api') },
};

const VERSIONED = /^(segment|host|notification)\.(create|update|delete|process)\.(start|end|error)$/;

/** Whether Masakari emits a versioned notification for this bus event type. */
export const isVersionedEvent = (type: string): boolean => VERSIONED.test(type);

function faultObject(fault: unknown): MasakariObject | null {
  if (!fault || typeof fault !== 'object') return null;
  const f = fault as Partial<FaultData>;
  return obj('ExceptionPayload', OBJECT_VERSIONS.ExceptionPayload, {
    module_name: f.module_name ?? 'unknown',
    function_name: f.function_name ?? 'unknown',
    exception: f.exception ?? 'str',
    exception_message: f.exception_message ?? '',
    traceback: f.traceback ?? '',
  });
}

/** Python's str(datetime): "2018-11-27 13:09:30.737034" (the fraction left out when it is zero, as Python does). */
export function pythonTimestamp(d: Date, micros = d.getUTCMilliseconds() * 1000): string {
  const base = d.toISOString().slice(0, 19).replace('T', ' ');
  return micros === 0 ? base : `${base}.${String(micros).padStart(6, '0')}`;
}

/**
 * The versioned notification for a bus event, or undefined when Masakari has none for it. `host` is the machine's
 * name, as Masakari puts socket.gethostname() in publisher_id.
 */
export function toVersionedNotification(e: BusEvent, host: string, newId: () => string = randomUUID): VersionedNotification | undefined {
  const m = VERSIONED.exec(e.type);
  if (!m) return undefined;
  const kind = m[1] as Kind;
  const spec = KIND[kind];
  const data = e.payload[kind];
  if (!data || typeof data !== 'object') return undefined;
  const fields: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  if (kind === 'host' && fields.failover_segment && typeof fields.failover_segment === 'object') {
    fields.failover_segment = obj('FailoverSegment', OBJECT_VERSIONS.FailoverSegment, fields.failover_segment as Record<string, unknown>);
  }
  fields.fault = faultObject(e.payload.fault);
  return {
    message_id: newId(),
    publisher_id: `${spec.binary(m[2]!)}:${host}`,
    event_type: e.type,
    priority: m[3] === 'error' ? 'ERROR' : 'INFO',
    payload: obj(spec.payload, OBJECT_VERSIONS[spec.payload], fields),
    timestamp: pythonTimestamp(e.at),
  };
}

/**
 * The request context as oslo.messaging packs it (`_context_<key>`): oslo.context's to_dict plus the keys Masakari's
 * RequestContext adds. Engine events run under Masakari's admin context (no user, no request).
 */
export function contextKeys(ctx: RequestContextData | undefined, at: Date): Record<string, unknown> {
  const c: RequestContextData = ctx ?? { request_id: null, user_id: null, project_id: null, roles: [], is_admin: true };
  const values: Record<string, unknown> = {
    user: c.user_id,
    project_id: c.project_id,
    system_scope: null,
    project: c.project_id,
    domain: null,
    user_domain: null,
    project_domain: null,
    is_admin: c.is_admin,
    read_only: false,
    show_deleted: false,
    auth_token: null,
    request_id: c.request_id ?? `req-${randomUUID()}`,
    global_request_id: null,
    resource_uuid: null,
    roles: c.roles,
    user_identity: `${c.user_id ?? '-'} ${c.project_id ?? '-'} - - -`,
    is_admin_project: true,
    user_id: c.user_id,
    read_deleted: 'no',
    remote_address: null,
    timestamp: at.toISOString().slice(0, 23) + '000',
    user_name: null,
    service_catalog: [],
    project_name: null,
    client_timeout: null,
  };
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`_context_${k}`, v]));
}

/**
 * The AMQP message body: oslo.messaging's v2 envelope, the notification (plus `_unique_id` and the context keys)
 * serialized as a JSON string under "oslo.message".
 */
export function envelope(n: VersionedNotification, ctx: RequestContextData | undefined, at: Date): string {
  const message = { ...n, _unique_id: randomUUID().replace(/-/g, ''), ...contextKeys(ctx, at) };
  return JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(message) });
}
