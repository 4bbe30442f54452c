// Failover segments on MySQL: soft delete (with their hosts), names unique among live segments (the live_name index).

import { IN_PROGRESS_STATUSES } from '../../domain/model.ts';
import { duplicateSegmentName, segmentNotFound } from '../sql/errors.ts';
import { segmentList } from '../sql/lists.ts';
import { segmentPatchable, setClause } from '../sql/patch.ts';
import { toSegment, us } from '../sql/rows.ts';
import type { SegmentFilters, SegmentStore } from '../types.ts';
import { isDuplicateKey, type Db } from './connection.ts';
import { listRows } from './listing.ts';
import type { SegmentRow } from './schema.ts';

export function segmentRepo(db: Db, newUuid: () => string): SegmentStore {
  return {
    listSegments: async (q) => (await listRows<SegmentFilters, SegmentRow>(db, segmentList, q)).map(toSegment),

    getSegment: async (uuid) => {
      const [r] = await db.rows<SegmentRow>('SELECT * FROM failover_segments WHERE uuid = ? AND deleted = 0', [uuid]);
      return r ? toSegment(r) : undefined;
    },

    createSegment: async (input, now) => {
      try {
        const { insertId } = await db.run(
          `INSERT INTO failover_segments (uuid, created_at, name, description, recovery_method, service_type, enabled)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [newUuid(), us(now), input.name, input.description ?? null, input.recoveryMethod, input.serviceType, input.enabled ? 1 : 0],
        );
        return toSegment((await db.rows<SegmentRow>('SELECT * FROM failover_segments WHERE id = ?', [insertId]))[0]!);
      } catch (e) {
        if (isDuplicateKey(e, 'failover_segments_live_name')) throw duplicateSegmentName(input.name);
        throw e;
      }
    },

    updateSegment: async (uuid, patch, now) => {
      const { set, params } = setClause(segmentPatchable, patch, now);
      try {
        // MySQL has no UPDATE … RETURNING: update and read back in one transaction (the row stays locked between).
        return await db.tx(async (c) => {
          const { affectedRows } = await c.run(`UPDATE failover_segments SET ${set} WHERE uuid = ? AND deleted = 0`, [...params, uuid]);
          if (affectedRows === 0) throw segmentNotFound(uuid);
          return toSegment((await c.rows<SegmentRow>('SELECT * FROM failover_segments WHERE uuid = ? AND deleted = 0', [uuid]))[0]!);
        });
      } catch (e) {
        if (isDuplicateKey(e, 'failover_segments_live_name')) throw duplicateSegmentName(patch.name!);
        throw e;
      }
    },

    deleteSegment: async (uuid, now) => {
      const t = us(now);
      await db.tx(async (c) => {
        const { affectedRows } = await c.run('UPDATE failover_segments SET deleted = 1, deleted_at = ? WHERE uuid = ? AND deleted = 0', [t, uuid]);
        if (affectedRows === 0) throw segmentNotFound(uuid);
        await c.run('UPDATE hosts SET deleted = 1, deleted_at = ? WHERE failover_segment_id = ? AND deleted = 0', [t, uuid]);
      });
    },

    segmentInUse: async (uuid) => {
      const [r] = await db.rows<{ used: unknown }>(
        `SELECT EXISTS (
           SELECT 1 FROM hosts h JOIN notifications n ON n.source_host_uuid = h.uuid
           WHERE h.failover_segment_id = ? AND h.deleted = 0 AND n.deleted = 0 AND n.status IN (?)
         ) AS used`,
        [uuid, IN_PROGRESS_STATUSES],
      );
      return Number(r?.used) === 1;
    },
  };
}
