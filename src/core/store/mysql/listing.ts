// Runs the lists of ../sql/listing.ts on MySQL: looks the marker row up, then reads the page.

import { MarkerNotFoundError } from '../../domain/errors.ts';
import { listSql, markerSql, sortKeysOf, type ListSpec, type MarkerRow } from '../sql/listing.ts';
import type { ListQuery } from '../types.ts';
import type { Executor } from './connection.ts';

/** A page of rows (R: the table's row from schema.ts). */
export async function listRows<F, R>(db: Executor, spec: ListSpec<F>, q: ListQuery<F>): Promise<R[]> {
  sortKeysOf(spec, q.sort); // a bad sort key is an error even with limit 0
  if (!(q.limit > 0)) return [];
  let marker: MarkerRow | undefined;
  if (q.marker !== undefined) {
    marker = Number.isSafeInteger(q.marker) ? (await db.rows<MarkerRow>(markerSql(spec), [q.marker]))[0] : undefined;
    if (!marker) throw new MarkerNotFoundError(String(q.marker));
  }
  const { sql, params } = listSql(spec, q, marker);
  return db.rows<R>(sql, params);
}
