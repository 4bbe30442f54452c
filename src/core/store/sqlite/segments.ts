// Failover segments: soft delete (with their hosts), names unique among live segments.

import { conflict, notFound } from '../../domain/errors.ts';
import { IN_PROGRESS_STATUSES, type Segment } from '../../domain/model.ts';
import type { ListQuery, NewSegment, SegmentFilters, SegmentPatch } from '../types.ts';
import { isUniqueViolation, type Connection } from './connection.ts';
import { listRawRows, type ListSpec } from './listing.ts';
import { segmentAt, toSegment, us, type Raw } from './rows.ts';

export const segmentList: ListSpec<SegmentFilters> = {
  table: 'failover_segments',
  sortKeys: {
    created_at: { column: 'created_at', nullable: false },
    description: { column: 'description', nullable: true },
    name: { column: 'name', nullable: false },
    updated_at: { column: 'updated_at', nullable: true },
    uuid: { column: 'uuid', nullable: false },
    recovery_method: { column: 'recovery_method', nullable: false },
    service_type: { column: 'service_type', nullable: false },
  },
  filters: (f) => {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (f.recoveryMethod !== undefined) (clauses.push('recovery_method = ?'), params.push(f.recoveryMethod));
    if (f.serviceType !== undefined) (clauses.push('service_type = ?'), params.push(f.serviceType));
    if (f.enabled !== undefined) (clauses.push('enabled = ?'), params.push(f.enabled ? 1 : 0));
    return { clauses, params };
  },
};

const duplicateName = (name: string) => conflict(`Failover segment with name ${name} already exists.`);
export const segmentNotFound = (uuid: string) => notFound(`No failover segment with id ${uuid}.`);
const IN_PROGRESS_SQL = IN_PROGRESS_STATUSES.map((s) => `'${s}'`).join(', ');

// Columns a patch may set, in a fixed order so each patch shape yields one SQL text.
const PATCHABLE: [keyof SegmentPatch, string, (v: unknown) => unknown][] = [
  ['name', 'name', (v) => v],
  ['description', 'description', (v) => v ?? null],
  ['recoveryMethod', 'recovery_method', (v) => v],
  ['serviceType', 'service_type', (v) => v],
  ['enabled', 'enabled', (v) => (v ? 1 : 0)],
];

export function segmentRepo(conn: Connection, newUuid: () => string) {
  const getRaw = (uuid: string) =>
    conn.stmt('SELECT * FROM failover_segments WHERE uuid = ? AND deleted = 0').get(uuid) as Raw | undefined;

  return {
    listSegments: (q: ListQuery<SegmentFilters>) => {
      const { rows, cols } = listRawRows(conn, segmentList, q);
      return rows.map((a) => segmentAt(a, cols));
    },

    getSegment: (uuid: string) => {
      const r = getRaw(uuid);
      return r ? toSegment(r) : undefined;
    },

    createSegment(input: NewSegment, now: Date): Segment {
      try {
        const r = conn
          .stmt(
            `INSERT INTO failover_segments (uuid, created_at, name, description, recovery_method, service_type, enabled)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          )
          .get(newUuid(), us(now), input.name, input.description ?? null, input.recoveryMethod, input.serviceType, input.enabled ? 1 : 0) as Raw;
        return toSegment(r);
      } catch (e) {
        if (isUniqueViolation(e, 'failover_segments.name')) throw duplicateName(input.name);
        throw e;
      }
    },

    updateSegment(uuid: string, patch: SegmentPatch, now: Date): Segment {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [key, column, toDb] of PATCHABLE) {
        if (patch[key] === undefined) continue; // absent; null (description) clears
        sets.push(`${column} = ?`);
        params.push(toDb(patch[key]));
      }
      sets.push('updated_at = ?');
      params.push(us(now));
      try {
        const r = conn
          .stmt(`UPDATE failover_segments SET ${sets.join(', ')} WHERE uuid = ? AND deleted = 0 RETURNING *`)
          .get(...params, uuid) as Raw | undefined;
        if (!r) throw segmentNotFound(uuid);
        return toSegment(r);
      } catch (e) {
        if (isUniqueViolation(e, 'failover_segments.name')) throw duplicateName(patch.name!);
        throw e;
      }
    },

    deleteSegment(uuid: string, now: Date): void {
      const t = us(now);
      conn.db
        .transaction(() => {
          const changed = conn
            .stmt('UPDATE failover_segments SET deleted = 1, deleted_at = ? WHERE uuid = ? AND deleted = 0')
            .run(t, uuid).changes;
          if (changed === 0) throw segmentNotFound(uuid);
          conn.stmt('UPDATE hosts SET deleted = 1, deleted_at = ? WHERE failover_segment_id = ? AND deleted = 0').run(t, uuid);
        })
        .immediate();
    },

    segmentInUse: (uuid: string): boolean =>
      conn
        .stmt(
          `SELECT EXISTS (
             SELECT 1 FROM hosts h JOIN notifications n ON n.source_host_uuid = h.uuid
             WHERE h.failover_segment_id = ? AND h.deleted = 0 AND n.deleted = 0 AND n.status IN (${IN_PROGRESS_SQL})
           ) AS used`,
        )
        .pluck()
        .get(uuid) === 1,
  };
}
