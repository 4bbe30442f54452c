// Runs the lists of ../sql/listing.ts on SQLite: looks the marker row up, then reads the page, as keyed rows or (for
// the API's hot lists) as arrays.

import { MarkerNotFoundError } from '../../domain/errors.ts';
import { listSql, markerSql, sortKeysOf, type ListSpec, type MarkerRow } from '../sql/listing.ts';
import type { ListQuery } from '../types.ts';
import type { Statement } from 'better-sqlite3';
import type { Connection } from './connection.ts';
import type { Cols } from './rows.ts';

/** The page's SQL and parameters after the marker lookup, or undefined when the page is empty (limit 0). */
function pageSql<F>(conn: Connection, spec: ListSpec<F>, q: ListQuery<F>): { sql: string; params: unknown[] } | undefined {
  sortKeysOf(spec, q.sort); // a bad sort key is an error even with limit 0
  if (!(q.limit > 0)) return undefined;
  let marker: MarkerRow | undefined;
  if (q.marker !== undefined) {
    marker = Number.isSafeInteger(q.marker) ? conn.stmt<MarkerRow>(markerSql(spec)).get(q.marker) : undefined;
    if (!marker) throw new MarkerNotFoundError(String(q.marker));
  }
  return listSql(spec, q, marker);
}

/**
 * A page as keyed rows (R: the table's row from schema.ts), the same objects `.all()` returns. Read as arrays and
 * keyed in JavaScript: better-sqlite3 sets each key of each row object from C++ (half the cost of a 100-row page),
 * while one compiled object literal per column list builds the same object (same keys, same order, same values)
 * for a fraction of that.
 */
export function listRows<F, R = MarkerRow>(conn: Connection, spec: ListSpec<F>, q: ListQuery<F>): R[] {
  const page = pageSql(conn, spec, q);
  if (!page) return [];
  const { stmt, keyed } = rawStatement(conn, page.sql);
  return (stmt.all(...page.params) as unknown[][]).map(keyed) as R[];
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
  keyed: (a: unknown[]) => MarkerRow;
}
// Per statement (its columns never change; the entry goes with the statement when the cache drops it).
const rawInfo = new WeakMap<Statement, RawStatement>();
// One keying function per column list, shared by every statement of a table (all lists here are `SELECT *`).
const keyers = new Map<string, (a: unknown[]) => MarkerRow>();

function rawStatement(conn: Connection, sql: string): RawStatement {
  const stmt: Statement = conn.stmt(RAW_MARK + sql);
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
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- one object-literal builder per column list (schema names, never input): the measured hot path, see rawRows
      keyed = new Function('a', `return { ${names.map((n, i) => `${JSON.stringify(n)}: a[${i}]`).join(', ')} };`) as (a: unknown[]) => MarkerRow;
      keyers.set(list, keyed);
    }
    info = { stmt, cols, keyed };
    rawInfo.set(stmt, info);
  }
  return info;
}
