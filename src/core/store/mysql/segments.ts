// Failover segments on MySQL: the same behaviour as ../sqlite/segments.ts (whose list spec it reuses).

import { conflict } from '../../domain/errors.ts';
import { IN_PROGRESS_STATUSES, type Segment } from '../../domain/model.ts';
import { segmentList, segmentNotFound } from '../sqlite/segments.ts';
import { toSegment, us } from '../sqlite/rows.ts';
import type { ListQuery, NewSegment, SegmentFilters, SegmentPatch } from '../types.ts';
import { isDuplicateKey, type Db } from './connection.ts';
import { listRows } from './listing.ts';

const duplicateName = (name: string) => conflict(`Failover segment with name ${name} already exists.`);

const PATCHABLE: [keyof SegmentPatch, string, (v: unknown) => unknown][] = [
  ['name', 'name', (v) => v],
  ['description', 'description', (v) => v ?? null],
  ['recoveryMethod', 'recovery_method', (v) => v],
  ['serviceType', 'service_type', (v) => v],
  ['enabled', 'enabled', (v) => (v ? 1 : 0)],
];

export function segmentRepo(db: Db, newUuid: () => string) {
  const byUuid = async (uuid: string) => (await db.rows('SELECT * FROM failover_segments WHERE uuid = ? AND deleted = 0', [uuid]))[0];

  return {
    listSegments: async (q: ListQuery<SegmentFilters>) => (await listRows(db, segmentList, q)).map(toSegment),

    getSegment: async (uuid: string) => {
      const r = await byUuid(uuid);
      return r ? toSegment(r) : undefined;
    },

    async createSegment(input: NewSegment, now: Date): Promise<Segment> {
      try {
        const { insertId } = await db.run(
          `INSERT INTO failover_segments (uuid, created_at, name, description, recovery_method, service_type, enabled)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [newUuid(), us(now), input.name, input.description ?? null, input.recoveryMethod, input.serviceType, input.enabled ? 1 : 0],
        );
        return toSegment((await db.rows('SELECT * FROM failover_segments WHERE id = ?', [insertId]))[0]!);
      } catch (e) {
        if (isDuplicateKey(e, 'failover_segments_live_name')) throw duplicateName(input.name);
        throw e;
      }
    },

    async updateSegment(uuid: string, patch: SegmentPatch, now: Date): Promise<Segment> {
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
        // MySQL has no UPDATE … RETURNING: update and read back in one transaction (the row stays locked between).
        return await db.tx(async (c) => {
          const { affectedRows } = await c.run(`UPDATE failover_segments SET ${sets.join(', ')} WHERE uuid = ? AND deleted = 0`, [
            ...params,
            uuid,
          ]);
          if (affectedRows === 0) throw segmentNotFound(uuid);
          return toSegment((await c.rows('SELECT * FROM failover_segments WHERE uuid = ? AND deleted = 0', [uuid]))[0]!);
        });
      } catch (e) {
        if (isDuplicateKey(e, 'failover_segments_live_name')) throw duplicateName(patch.name!);
        throw e;
      }
    },

    async deleteSegment(uuid: string, now: Date): Promise<void> {
      const t = us(now);
      await db.tx(async (c) => {
        const { affectedRows } = await c.run('UPDATE failover_segments SET deleted = 1, deleted_at = ? WHERE uuid = ? AND deleted = 0', [t, uuid]);
        if (affectedRows === 0) throw segmentNotFound(uuid);
        await c.run('UPDATE hosts SET deleted = 1, deleted_at = ? WHERE failover_segment_id = ? AND deleted = 0', [t, uuid]);
      });
    },

    segmentInUse: async (uuid: string): Promise<boolean> => {
      const [r] = await db.rows(
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
