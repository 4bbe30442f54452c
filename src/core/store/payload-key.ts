// The payload key of a notification: a hash of its payload's canonical JSON (keys sorted, so {"a":1,"b":2} and
// {"b":2,"a":1} are one payload, as Masakari's dict comparison sees them). Duplicate detection looks candidates up
// by it; equal keys are then confirmed by comparing the canonical JSON itself, so a hash collision cannot make two
// different notifications duplicates.

import { createHash } from 'node:crypto';

export function payloadKey(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}

/**
 * Statuses a notification must still have to make a new identical one a duplicate (an SQL list, both dialects). Like
 * Masakari: once the first one finished (or failed), the same event again is a new failure that must be handled.
 */
export const DUPLICATE_OF_STATUSES = "('new', 'running')";

/** Statuses whose rows a new notification can be a duplicate of; the backfill also covers `error` (it is retried). */
export const BACKFILL_STATUSES = ['new', 'running', 'error'] as const;

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

/** The one of `candidates` (rows with the same payload key) whose payload is really `payload`, if any. */
export function samePayload<R extends { payload: string }>(candidates: readonly R[], payload: unknown): R | undefined {
  if (!candidates.length) return undefined;
  const wanted = canonicalJson(payload);
  return candidates.find((c) => canonicalJson(JSON.parse(c.payload)) === wanted);
}
