// Masakari-style lists: sort by the caller's keys (+ id as the tie-breaker), then keyset paging from a marker row,
// like oslo.db's paginate_query: the page starts right after the marker row in the sort order.
//
// The SQL text depends only on the query's shape (which filters are present, the sort keys and directions, and
// which marker values are NULL), never on values, so each shape is prepared once and reused from the cache.
// NULL ordering follows SQLite (and MySQL): NULL is the smallest value (first in asc, last in desc).

import { badRequest, MarkerNotFoundError } from '../../domain/errors.ts';
import type { ListQuery, SortDir } from '../types.ts';
import type { Statement } from 'better-sqlite3';
import type { Connection } from './connection.ts';
import type { Cols, Raw } from './rows.ts';

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

const ID: SortColumn = { column: 'id', nullable: false };
const DEFAULT_SORT: { key: string; dir: SortDir }[] = [{ key: 'created_at', dir: 'desc' }];

interface Key extends SortColumn {
  dir: SortDir;
}

function resolveKeys<F>(spec: ListSpec<F>, sort: ListQuery<F>['sort']): Key[] {
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

function markerCondition(keys: Key[], marker: Raw): { sql: string; params: unknown[] } {
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
  // A leading bound on the first key lets SQLite start the index scan near the marker instead of at the beginning.
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
export function listSql<F>(spec: ListSpec<F>, q: ListQuery<F>, marker: Raw | undefined): { sql: string; params: unknown[] } {
  const keys = resolveKeys(spec, q.sort);
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

/** The page's SQL and parameters after the marker lookup, or undefined when the page is empty (limit 0). */
function pageSql<F>(conn: Connection, spec: ListSpec<F>, q: ListQuery<F>): { sql: string; params: unknown[] } | undefined {
  resolveKeys(spec, q.sort); // a bad sort key is an error even with limit 0
  if (!(q.limit > 0)) return undefined;
  let marker: Raw | undefined;
  if (q.marker !== undefined) {
    marker = Number.isSafeInteger(q.marker)
      ? (conn.stmt(`SELECT * FROM ${spec.table} WHERE id = ? AND deleted = 0`).get(q.marker) as Raw | undefined)
      : undefined;
    if (!marker) throw new MarkerNotFoundError(String(q.marker));
  }
  return listSql(spec, q, marker);
}

/**
 * A page as keyed rows, the same objects `.all()` returns. Read as arrays and keyed in JavaScript: better-sqlite3
 * sets each key of each row object from C++ (half the cost of a 100-row page), while one compiled object literal per
 * column list builds the same object (same keys, same order, same values) for a fraction of that.
 */
export function listRows<F>(conn: Connection, spec: ListSpec<F>, q: ListQuery<F>): Raw[] {
  const page = pageSql(conn, spec, q);
  if (!page) return [];
  const { stmt, keyed } = rawStatement(conn, page.sql);
  return (stmt.all(...page.params) as unknown[][]).map(keyed);
}

/**
 * listRows with array rows (`.raw(true)`) and the column positions to read them with (see Cols in rows.ts): the
 * cheapest form, for the API's hot lists.
 */
export function listRawRows<F>(conn: Connection, spec: ListSpec<F>, q: ListQuery<F>): { rows: unknown[][]; cols: Cols } {
  const page = pageSql(conn, spec, q);
  if (!page) return { rows: [], cols: {} };
  const { stmt, cols } = rawStatement(conn, page.sql);
  return { rows: stmt.all(...page.params) as unknown[][], cols };
}

// Raw mode is a persistent flag of a prepared statement, and the statement cache hands one statement to every caller
// of the same SQL text: the marker keeps raw statements apart from the keyed-row ones.
const RAW_MARK = '/* raw */ ';

interface RawStatement {
  stmt: Statement;
  cols: Cols;
  keyed: (a: unknown[]) => Raw;
}
// Per statement (its columns never change; the entry goes with the statement when the cache drops it).
const rawInfo = new WeakMap<Statement, RawStatement>();
// One keying function per column list, shared by every statement of a table (all lists here are `SELECT *`).
const keyers = new Map<string, (a: unknown[]) => Raw>();

function rawStatement(conn: Connection, sql: string): RawStatement {
  const stmt = conn.stmt(RAW_MARK + sql);
  let info = rawInfo.get(stmt);
  if (!info) {
    stmt.raw(true);
    const names = stmt.columns().map((c) => c.name);
    const cols: Record<string, number> = {};
    names.forEach((n, i) => (cols[n] = i));
    const list = JSON.stringify(names);
    let keyed = keyers.get(list);
    if (!keyed) {
      // The names are the table's column names (from the schema, never from a request); JSON.stringify quotes them.
      keyed = new Function('a', `return { ${names.map((n, i) => `${JSON.stringify(n)}: a[${i}]`).join(', ')} };`) as (a: unknown[]) => Raw;
      keyers.set(list, keyed);
    }
    info = { stmt, cols, keyed };
    rawInfo.set(stmt, info);
  }
  return info;
}
