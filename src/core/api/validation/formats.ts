// Value checks Masakari applies to request fields: uuid-likeness (oslo uuidutils), ISO-8601 times (oslo timeutils),
// printable names and descriptions (masakari.api.validation.parameter_types).

import { parseIsoMicros } from '../../domain/time.ts';
import type { FormatChecker } from './jsonschema.ts';

/** oslo's is_uuid_like: 32 hex digits once "urn:", "uuid:", braces and hyphens are dropped, any case. */
const CANONICAL_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuidLike(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  if (v.length === 36 && CANONICAL_UUID.test(v)) return true; // the common form, without the rewrites below
  const s = v
    .toLowerCase()
    .replace(/^urn:/, '')
    .replace(/^uuid:/, '')
    .replace(/[{}-]/g, '');
  return /^[0-9a-f]{32}$/.test(s);
}

/** Date-only ISO-8601 ("2026-11-22") is a valid time for oslo (midnight UTC); parseIsoMicros needs a time part. */
export function parseIsoTime(text: string): Date | undefined {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return parseIsoMicros(`${t}T00:00:00`);
  const d = parseIsoMicros(t);
  if (!d) return undefined;
  // Reject impossible calendar values that Date.parse would roll over (2026-02-30).
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(t)!;
  const [y, mo, da] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(y, mo - 1, da));
  if (probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== da) return undefined;
  return d;
}

/**
 * Printable as Masakari defines it: not a control/format/unassigned character and not a line or paragraph
 * separator; spaces (Zs) count as printable. Masakari only knows the Basic Multilingual Plane.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u;
const isPrintable = (ch: string) => ch.codePointAt(0)! < 0xffff && PRINTABLE.test(ch);
const isSpace = (ch: string) => /^\p{Zs}$/u.test(ch);

export function isValidName(s: string): boolean {
  const chars = [...s];
  if (!chars.every(isPrintable)) return false;
  if (chars.length === 0) return true;
  return !isSpace(chars[0]!) && !isSpace(chars[chars.length - 1]!);
}

export function isValidDescription(s: string): boolean {
  for (const ch of s) if (ch !== '\n' && !isPrintable(ch)) return false;
  return true;
}

export const INVALID_NAME_MESSAGE = "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";

export const formatCheckers: Record<string, FormatChecker> = {
  uuid: (v) => ({ ok: isUuidLike(v) }),
  'date-time': (v) => ({ ok: typeof v === 'string' && parseIsoTime(v) !== undefined }),
  // Masakari's name checker raises its own exception, whose message replaces the whole validation message.
  name: (v) => (typeof v === 'string' && isValidName(v) ? { ok: true } : { ok: false, causeMessage: INVALID_NAME_MESSAGE }),
  // Stands in for Masakari's giant printable-range regular expression on descriptions.
  description: (v) => ({ ok: typeof v !== 'string' || isValidDescription(v) }),
};
