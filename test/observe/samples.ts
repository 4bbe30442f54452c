// Masakari's versioned notification samples (test/fixtures/masakari-notification-samples/, from its 14.0.2
// documentation) and the field-by-field comparison of a notification we sent against the sample of its event type.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'masakari-notification-samples');

export interface Sample {
  event_type: string;
  priority?: string;
  publisher_id: string;
  message_id: string;
  timestamp: string;
  payload: Record<string, unknown>;
}

/** The sample file for each event type (Masakari's names). */
export const SAMPLE_FILE: Record<string, string> = {
  'segment.create.start': 'create-segment-start.json',
  'segment.create.end': 'create-segment-end.json',
  'segment.update.start': 'update-segment-start.json',
  'segment.update.end': 'update-segment-end.json',
  'segment.delete.start': 'delete-segment-start.json',
  'segment.delete.end': 'delete-segment-end.json',
  'host.create.start': 'create-host-start.json',
  'host.create.end': 'create-host-end.json',
  'host.update.start': 'update-host-start.json',
  'host.update.end': 'update-host-end.json',
  'host.delete.start': 'delete-host-start.json',
  'host.delete.end': 'delete-host-end.json',
  'notification.create.start': 'create-notification-start.json',
  'notification.create.end': 'create-notification-end.json',
  'notification.process.start': 'process-notification-start.json',
  'notification.process.end': 'process-notification-end.json',
  'notification.process.error': 'process-notification-error.json',
};

export function sample(eventType: string): Sample {
  const file = SAMPLE_FILE[eventType];
  if (!file) throw new Error(`no sample for ${eventType}`);
  return JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Sample;
}

/**
 * Where Masakari 14.0.2's code differs from its documentation's samples (masakari/notifications/objects/
 * notification.py, masakari/objects/segment.py): object name -> [version the code sends, fields it adds].
 */
export const NEWER_THAN_SAMPLES: Record<string, { version: string; added: string[] }> = {
  SegmentApiPayload: { version: '1.1', added: ['enabled'] },
  FailoverSegment: { version: '1.1', added: ['enabled'] },
};

/** Fields Masakari declares nullable: null in ours is right even where the sample shows a value. */
const NULLABLE = new Set(['description', 'updated_at', 'deleted_at']);

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isObj = (v: unknown): v is Record<string, unknown> => kind(v) === 'object';

/**
 * Differences between a versioned object we sent and the sample's, recursively: object name and namespace equal,
 * version equal (or the documented newer one), the same data keys (plus the documented additions), each value of
 * the same JSON type as the sample's; where the sample has null, ours may be null or the kind the field holds
 * (a description, a fault), except `fault`, which must be null exactly where the sample's is.
 */
export function objectDifferences(ours: unknown, theirs: unknown, path = 'payload'): string[] {
  if (!isObj(ours)) return [`${path}: not an object (${kind(ours)})`];
  const t = theirs as Record<string, unknown>;
  const out: string[] = [];
  const name = t['masakari_object.name'] as string;
  for (const k of ['masakari_object.name', 'masakari_object.namespace']) {
    if (ours[k] !== t[k]) out.push(`${path}.${k}: ${String(ours[k])} != sample ${String(t[k])}`);
  }
  const newer = NEWER_THAN_SAMPLES[name];
  const version = newer?.version ?? t['masakari_object.version'];
  if (ours['masakari_object.version'] !== version)
    out.push(`${path}.masakari_object.version: ${String(ours['masakari_object.version'])} != ${String(version)}`);
  const od = ours['masakari_object.data'];
  const td = t['masakari_object.data'] as Record<string, unknown>;
  if (!isObj(od)) return [...out, `${path}.masakari_object.data: missing`];
  const expected = new Set([...Object.keys(td), ...(newer?.added ?? [])]);
  for (const k of expected) if (!(k in od)) out.push(`${path}.data.${k}: missing`);
  for (const k of Object.keys(od)) if (!expected.has(k)) out.push(`${path}.data.${k}: not in the sample`);
  for (const k of Object.keys(td)) {
    if (!(k in od)) continue;
    const a = od[k];
    const b = td[k];
    const p = `${path}.data.${k}`;
    if (k === 'fault') {
      if ((a === null) !== (b === null)) out.push(`${p}: ${kind(a)} where the sample has ${kind(b)}`);
      else if (a !== null) out.push(...objectDifferences(a, b, p));
    } else if (isObj(b) && 'masakari_object.name' in b) {
      out.push(...objectDifferences(a, b, p));
    } else if (b !== null && a !== null && kind(a) !== kind(b)) {
      out.push(`${p}: ${kind(a)} where the sample has ${kind(b)}`);
    } else if (b !== null && a === null && !NULLABLE.has(k)) {
      out.push(`${p}: null where the sample has ${kind(b)}`);
    }
  }
  return out;
}

/** A received notification (as an oslo.messaging listener hands it over) against the sample of its event type. */
export function notificationDifferences(n: {
  event_type: string;
  priority: string;
  publisher_id: string;
  payload: unknown;
  metadata?: Record<string, unknown>;
}): string[] {
  const s = sample(n.event_type);
  const out: string[] = [];
  if (n.priority !== (s.priority ?? 'INFO')) out.push(`priority ${n.priority} != ${s.priority ?? 'INFO'}`);
  const binary = (id: string) => id.slice(0, id.indexOf(':'));
  if (binary(n.publisher_id) !== binary(s.publisher_id) || !/^[^:]+:.+$/.test(n.publisher_id)) {
    out.push(`publisher_id ${n.publisher_id}: expected ${binary(s.publisher_id)}:<host>`);
  }
  if (n.metadata) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(String(n.metadata.message_id)))
      out.push(`message_id ${String(n.metadata.message_id)}`);
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$/.test(String(n.metadata.timestamp))) out.push(`timestamp ${String(n.metadata.timestamp)}`);
  }
  return [...out, ...objectDifferences(n.payload, s.payload)];
}

/**
 * Keys we send that Masakari 14.0.2's code does not (its documentation's samples have them: create.end carries the
 * new row's ids there, and the host payload the segment's uuid). Kept so that consumers written against either the
 * documentation or the running Masakari find what they read.
 */
export const EXTRA_KEYS_FROM_SAMPLES = new Set(['id', 'uuid', 'notification_uuid', 'failover_segment_id']);

/**
 * Differences between a notification we sent and the one the real Masakari 14.0.2 sent for the same operation:
 * priority and publisher_id equal; payload objects with the same name, namespace and version; every key of
 * Masakari's in ours with the same JSON type and, for `same` keys, the same value; our extra keys only those of
 * EXTRA_KEYS_FROM_SAMPLES; every context key of Masakari's present in ours.
 */
export function referenceDifferences(ours: Received, ref: Received, same: readonly string[]): string[] {
  const out: string[] = [];
  if (ours.priority !== ref.priority) out.push(`priority ${ours.priority} != ${ref.priority}`);
  if (ours.publisher_id !== ref.publisher_id) out.push(`publisher_id ${ours.publisher_id} != ${ref.publisher_id}`);
  const walk = (a: unknown, b: unknown, path: string) => {
    if (!isObj(a) || !isObj(b)) {
      out.push(`${path}: ${kind(a)} vs ${kind(b)}`);
      return;
    }
    for (const k of ['masakari_object.name', 'masakari_object.namespace', 'masakari_object.version']) {
      if (a[k] !== b[k]) out.push(`${path}.${k}: ${String(a[k])} != Masakari's ${String(b[k])}`);
    }
    const ad = a['masakari_object.data'] as Record<string, unknown>;
    const bd = b['masakari_object.data'] as Record<string, unknown>;
    for (const k of Object.keys(bd)) {
      const p = `${path}.data.${k}`;
      if (!(k in ad)) out.push(`${p}: missing`);
      else if (isObj(bd[k]) && 'masakari_object.name' in (bd[k] as object)) walk(ad[k], bd[k], p);
      else if (bd[k] !== null && ad[k] !== null && kind(ad[k]) !== kind(bd[k])) out.push(`${p}: ${kind(ad[k])} vs ${kind(bd[k])}`);
      else if ((bd[k] === null) !== (ad[k] === null) && !NULLABLE.has(k)) out.push(`${p}: ${kind(ad[k])} vs ${kind(bd[k])}`);
      else if (same.includes(k) && JSON.stringify(ad[k]) !== JSON.stringify(bd[k])) out.push(`${p}: ${JSON.stringify(ad[k])} != ${JSON.stringify(bd[k])}`);
    }
    for (const k of Object.keys(ad)) if (!(k in bd) && !EXTRA_KEYS_FROM_SAMPLES.has(k)) out.push(`${path}.data.${k}: Masakari does not send it`);
  };
  walk(ours.payload, ref.payload, 'payload');
  for (const k of Object.keys(ref.context)) if (!(k in ours.context)) out.push(`context ${k}: missing`);
  return out;
}

/** A notification as test/labs/rabbitmq/oslo_listener.py prints it. */
export interface Received {
  priority: string;
  publisher_id: string;
  event_type: string;
  payload: { 'masakari_object.data': Record<string, unknown> } & Record<string, unknown>;
  metadata: Record<string, unknown>;
  context: Record<string, unknown>;
}
