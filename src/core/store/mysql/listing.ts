// Masakari-style lists on MySQL. The SQL is the dialect-neutral one of ../sqlite/listing.ts (keyset paging from the
// marker row, NULL smallest as in both SQLite and MySQL, id as the tie-breaker): only running it differs.

import { MarkerNotFoundError } from '../../domain/errors.ts';
import { listSql, type ListSpec } from '../sqlite/listing.ts';
import type { Raw } from '../sqlite/rows.ts';
import type { ListQuery } from '../types.ts';
import type { Executor } from './connection.ts';

export async function listRows<F>(db: Executor, spec: ListSpec<F>, q: ListQuery<F>): Promise<Raw[]> {
  listSql(spec, q, undefined); // a bad sort key is an error even with limit 0
  if (!(q.limit > 0)) return [];
  let marker: Raw | undefined;
  if (q.marker !== undefined) {
    marker = Number.isSafeInteger(q.marker)
      ? (await db.rows(`SELECT * FROM ${spec.table} WHERE id = ? AND deleted = 0`, [q.marker]))[0]
      : undefined;
    if (!marker) throw new MarkerNotFoundError(String(q.marker));
  }
  const { sql, params } = listSql(spec, q, marker);
  return db.rows(sql, params);
}
