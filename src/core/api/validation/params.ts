// Query-string handling shared by the list endpoints: limit/marker pagination, repeated sort_key/sort_dir pairs and
// strict boolean filters, with Masakari's messages.

import { badRequest, MarkerNotFoundError } from '../../domain/errors.ts';
import type { ListQuery, SortDir } from '../../store/types.ts';
import { AppError, errorMessage } from '../../errors.ts';

/** All values of every query parameter, in order (parameters may repeat: sort_key, sort_dir). */
export type QueryParams = Record<string, string[]>;

/** webob returns the last value of a repeated parameter. */
export const lastParam = (q: QueryParams, key: string): string | undefined => {
  const v = q[key];
  return v && v.length > 0 ? v[v.length - 1] : undefined;
};

/** Python's int(): optional sign, digits, surrounding whitespace and underscores between digits. */
function pyInt(text: string): number | undefined {
  const t = text.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];
const ACCEPTED = [...TRUE_STRINGS, ...FALSE_STRINGS]
  .sort()
  .map((s) => `'${s}'`)
  .join(', ');

/** A value that strictBool does not accept; callers turn its message into their own 400. */
export class InvalidBooleanError extends AppError {
  readonly code = 'INVALID_BOOLEAN';
}

/** oslo strutils.bool_from_string(strict=True). Throws InvalidBooleanError with the "Unrecognized value" text. */
export function strictBool(value: string | boolean): boolean {
  if (typeof value === 'boolean') return value;
  const v = value.trim().toLowerCase();
  if (TRUE_STRINGS.includes(v)) return true;
  if (FALSE_STRINGS.includes(v)) return false;
  throw new InvalidBooleanError(`Unrecognized value '${value}', acceptable values are: ${ACCEPTED}`);
}

/** A boolean list filter: 400 "Invalid value for <name>: ..." like Masakari's host filters. */
export function boolFilter(q: QueryParams, name: string): boolean | undefined {
  const raw = lastParam(q, name);
  if (raw === undefined) return undefined;
  try {
    return strictBool(raw);
  } catch (e) {
    throw badRequest(`Invalid value for ${name}: ${errorMessage(e)}`);
  }
}

export interface ListParams {
  sort: { key: string; dir: SortDir }[];
  limit: number;
  marker?: number;
  /** The marker as the client wrote it (Masakari's "Marker X could not be found." echoes it). */
  rawMarker?: string;
}

/**
 * Pagination and sorting exactly as Masakari checks them: limit (integer >= 0, capped at maxLimit), sort directions
 * ('asc'|'desc', no more directions than keys), then the marker (Masakari's marker is the integer id), then the keys.
 * Keys without a direction take the first given direction (default desc); created_at is appended.
 */
export function listParams(q: QueryParams, sortKeys: ReadonlySet<string>, maxLimit: number): ListParams {
  let limit = maxLimit;
  const rawLimit = lastParam(q, 'limit');
  if (rawLimit !== undefined) {
    const n = pyInt(rawLimit);
    if (n === undefined) throw badRequest('Invalid input received: limit must be an integer');
    if (n < 0) throw badRequest('Invalid input received: limit must be >= 0');
    limit = Math.min(n, maxLimit);
  }
  const keys = (q.sort_key ?? []).map((k) => k.trim());
  const dirs = (q.sort_dir ?? []).map((d) => d.trim());
  for (const d of dirs) {
    if (d !== 'asc' && d !== 'desc') throw badRequest("Invalid input received: Unknown sort direction, must be 'asc' or 'desc'");
  }
  const resultKeys = keys.length > 0 ? keys : ['created_at'];
  if (dirs.length > resultKeys.length) throw badRequest('Invalid input received: Sort direction size exceeds sort key size');
  const defaultDir = (dirs[0] ?? 'desc') as SortDir;
  const sort = resultKeys.map((key, i) => ({ key, dir: (dirs[i] ?? defaultDir) as SortDir }));
  // Masakari appends created_at and id in the first direction; the store appends id itself.
  if (!resultKeys.includes('created_at')) sort.push({ key: 'created_at', dir: defaultDir });

  let marker: number | undefined;
  const rawMarker = lastParam(q, 'marker');
  if (rawMarker !== undefined) {
    // Masakari looks the marker up by integer id: anything else (a uuid) is simply not found.
    const n = pyInt(rawMarker);
    if (n === undefined || !Number.isSafeInteger(n)) throw new MarkerNotFoundError(rawMarker);
    marker = n;
  }
  for (const { key } of sort) {
    if (!sortKeys.has(key)) throw badRequest(`InvalidSortKey('Sort key supplied is invalid: ${key}')`);
  }
  return { sort, limit, ...(marker !== undefined ? { marker, rawMarker: rawMarker! } : {}) };
}

/** Runs a store listing; a marker the store cannot find is reported with the client's own spelling. */
export async function listing<T>(p: ListParams, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof MarkerNotFoundError && p.rawMarker !== undefined) throw new MarkerNotFoundError(p.rawMarker);
    throw e;
  }
}

export function listQuery<F>(p: ListParams, filters: F): ListQuery<F> {
  return { filters, sort: p.sort, limit: p.limit, ...(p.marker !== undefined ? { marker: p.marker } : {}) };
}
