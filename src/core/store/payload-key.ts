// The payload key of a notification: a hash of its payload's canonical JSON (keys sorted, so {"a":1,"b":2} and
// {"b":2,"a":1} are one payload, as Masakari's dict comparison sees them). Duplicate detection looks candidates up
// by it; equal keys are then confirmed by comparing the canonical JSON itself, so a hash collision cannot make two
// different notifications duplicates.

import { createHash } from 'node:crypto';
import { canonicalJson } from './sqlite/rows.ts';

export function payloadKey(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}

/** Statuses whose rows a new notification can be a duplicate of; the backfill also covers `error` (it is retried). */
export const BACKFILL_STATUSES = ['new', 'running', 'error'] as const;
