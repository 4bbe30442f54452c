// Failover segments: soft delete (with their hosts), names unique among live segments.

import { IN_PROGRESS_STATUSES } from '../../domain/model.ts';
import { duplicateSegmentName, segmentNotFound } from '../sql/errors.ts';
import { segmentList } from '../sql/lists.ts';
import { segmentPatchable, setClause } from '../sql/patch.ts';
import { toSegment, us } from '../sql/rows.ts';
import type { SegmentStore } from '../types.ts';
import { isUniqueViolation, type Connection } from './connection.ts';
import { listRawRows } from './listing.ts';
import { segmentAt } from './rows.ts';
import type { SegmentRow } from './schema.ts';

const IN_PROGRESS_SQL = IN_PROGRESS_STATUSES.map((s) => `'${s}'`).join(', ');

export function segmentRepo(conn: Connection, newUuid: () => string): SegmentStore {
  return {
    listSegments: async (q) => {
      const { rows, cols } = listRawRows(conn, segmentList, q);
      return rows.map((a) => segmentAt(a, cols));
    },

    getSegment: async (uuid) => {
      const r = conn.stmt<SegmentRow>('SELECT * FROM failover_segments WHERE uuid = ? AND deleted = 0').get(uuid);
      return r ? toSegment(r) : undefined;
    },

    createSegment: (input, now) =>
      conn.write(() => {
        try {
          const r = conn
            .stmt<SegmentRow>(
              `INSERT INTO failover_segments (uuid, created_at, name, description, recovery_method, service_type, enabled)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
            )
            .get(newUuid(), us(now), input.name, input.description ?? null, input.recoveryMethod, input.serviceType, input.enabled ? 1 : 0)!;
          return toSegment(r);
        } catch (e) {
          if (isUniqueViolation(e, 'failover_segments.name')) throw duplicateSegmentName(input.name);
          throw e;
        }
      }),

    updateSegment: (uuid, patch, now) =>
      conn.write(() => {
        const { set, params } = setClause(segmentPatchable, patch, now);
        try {
          const r = conn.stmt<SegmentRow>(`UPDATE failover_segments SET ${set} WHERE uuid = ? AND deleted = 0 RETURNING *`).get(...params, uuid);
          if (!r) throw segmentNotFound(uuid);
          return toSegment(r);
        } catch (e) {
          if (isUniqueViolation(e, 'failover_segments.name')) throw duplicateSegmentName(patch.name!);
          throw e;
        }
      }),

    deleteSegment: (uuid, now) =>
      conn.write(() => {
        const t = us(now);
        conn.db
          .transaction(() => {
            const changed = conn.stmt('UPDATE failover_segments SET deleted = 1, deleted_at = ? WHERE uuid = ? AND deleted = 0').run(t, uuid).changes;
            if (changed === 0) throw segmentNotFound(uuid);
            conn.stmt('UPDATE hosts SET deleted = 1, deleted_at = ? WHERE failover_segment_id = ? AND deleted = 0').run(t, uuid);
          })
          .immediate();
      }),

    segmentInUse: async (uuid) =>
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
