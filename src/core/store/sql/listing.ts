// Masakari-style lists, in SQL both SQLite and MySQL run: sort by the caller's keys (+ id as the tie-breaker), then
// keyset paging from a marker row, like oslo.db's paginate_query: the page starts right after the marker row in the
// sort order. Running the SQL (and looking the marker row up) is each dialect's own listing.ts.
//
// The SQL text depends only on the query's shape (which filters are present, the sort keys and directions, and
// which marker values are NULL), never on values, so each shape is prepared once and reused (SQLite's statement
// cache). NULL ordering is the same in both dialects: NULL is the smallest value (first in asc, last in desc).

import { badRequest } from '../../domain/errors.ts';
import type { ListQuery, SortDir } from '../types.ts';

export interface SortColumn {
  column: string;
  nullable: boolean;
}

export interface ListSpec<F> {
  table: string;
  /** API sort key -> column. */
  sortKeys: Record<string, SortColumn>;
  /** WHERE clauses (besides `deleted = 0`) and their parameters, always in the same order for the same shape. */
  filters(f: F): { clauses: string[]; params: unknown[] };
}

/** The marker row as read by `SELECT *`: only the sort columns are read from it. */
export type MarkerRow = Readonly<Record<string, unknown>>;

const ID: SortColumn = { column: 'id', nullable: false };
const DEFAULT_SORT: { key: string; dir: SortDir }[] = [{ key: 'created_at', dir: 'desc' }];

interface Key extends SortColumn {
  dir: SortDir;
}

/** The sort columns of a query (id appended); throws bad request for an unknown key or direction. */
export function sortKeysOf<F>(spec: ListSpec<F>, sort: ListQuery<F>['sort']): Key[] {
  const requested = sort.length ? sort : DEFAULT_SORT;
  const keys: Key[] = requested.map(({ key, dir }) => {
    const col = Object.hasOwn(spec.sortKeys, key) ? spec.sortKeys[key] : undefined;
    if (!col) throw badRequest(`Sort key supplied is invalid: ${key}`);
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Unknown sort direction, must be 'desc' or 'asc'`);
    return { ...col, dir };
  });
  keys.push({ ...ID, dir: keys[keys.length - 1]!.dir });
  return keys;
}

/** `column comes after the marker value v` in direction `dir`, or undefined when nothing can come after it. */
function after(k: Key, v: unknown): { sql: string; params: unknown[] } | undefined {
  const c = k.column;
  if (k.dir === 'asc') return v === null ? { sql: `${c} IS NOT NULL`, params: [] } : { sql: `${c} > ?`, params: [v] };
  if (v === null) return undefined; // NULL is the smallest: nothing is smaller
  return k.nullable ? { sql: `(${c} < ? OR ${c} IS NULL)`, params: [v] } : { sql: `${c} < ?`, params: [v] };
}

function markerCondition(keys: Key[], marker: MarkerRow): { sql: string; params: unknown[] } {
  const values = keys.map((k) => marker[k.column] ?? null);
  // Fast path the index can range-scan: all directions equal and no NULL-able column -> one row-value comparison.
  if (keys.every((k) => !k.nullable && k.dir === keys[0]!.dir)) {
    const op = keys[0]!.dir === 'asc' ? '>' : '<';
    return { sql: `(${keys.map((k) => k.column).join(', ')}) ${op} (${keys.map(() => '?').join(', ')})`, params: values };
  }
  const ors: string[] = [];
  const params: unknown[] = [];
  for (let i = 0; i < keys.length; i++) {
    const a = after(keys[i]!, values[i]);
    if (!a) continue;
    const ands: string[] = [];
    for (let j = 0; j < i; j++) {
      if (values[j] === null) ands.push(`${keys[j]!.column} IS NULL`);
      else {
        ands.push(`${keys[j]!.column} = ?`);
        params.push(values[j]);
      }
    }
    ands.push(a.sql);
    params.push(...a.params);
    ors.push(ands.length > 1 ? `(${ands.join(' AND ')})` : ands[0]!);
  }
  if (!ors.length) return { sql: '0', params: [] };
  // A leading bound on the first key lets the database start the index scan near the marker instead of at the
  // beginning.
  const first = keys[0]!;
  let lead = '';
  const leadParams: unknown[] = [];
  if (!first.nullable && values[0] !== null) {
    lead = `${first.column} ${first.dir === 'asc' ? '>=' : '<='} ? AND `;
    leadParams.push(values[0]);
  }
  return { sql: `${lead}(${ors.join(' OR ')})`, params: [...leadParams, ...params] };
}

/**
 * The SQL and parameters of one list page. `marker` is the marker row (already looked up), so the text depends
 * only on the shape of the query. Exported for the query-plan test.
 */
export function listSql<F>(spec: ListSpec<F>, q: ListQuery<F>, marker: MarkerRow | undefined): { sql: string; params: unknown[] } {
  const keys = sortKeysOf(spec, q.sort);
  const where = ['deleted = 0'];
  const { clauses, params } = spec.filters(q.filters);
  where.push(...clauses);
  const allParams = [...params];
  if (marker) {
    const m = markerCondition(keys, marker);
    where.push(m.sql);
    allParams.push(...m.params);
  }
  const order = keys.map((k) => `${k.column} ${k.dir.toUpperCase()}`).join(', ');
  return {
    sql: `SELECT * FROM ${spec.table} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`,
    params: [...allParams, Math.floor(q.limit)],
  };
}

/** The query that looks a marker up by its id (live rows only). */
export const markerSql = (spec: { table: string }): string => `SELECT * FROM ${spec.table} WHERE id = ? AND deleted = 0`;
