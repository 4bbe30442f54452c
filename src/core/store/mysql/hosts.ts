// Hosts on MySQL: names unique across all live hosts of all segments (the live_name index); soft delete.

import { IN_PROGRESS_STATUSES } from '../../domain/model.ts';
import { duplicateHostName, hostNotFound, segmentNotFound } from '../sql/errors.ts';
import { hostList } from '../sql/lists.ts';
import { hostPatchable, setClause } from '../sql/patch.ts';
import { toHost, us } from '../sql/rows.ts';
import type { HostFilters, HostStore } from '../types.ts';
import { isDuplicateKey, type Db } from './connection.ts';
import { listRows } from './listing.ts';
import type { HostRow } from './schema.ts';

export function hostRepo(db: Db, newUuid: () => string): HostStore {
  const one = async (sql: string, param: unknown) => {
    const [r] = await db.rows<HostRow>(sql, [param]);
    return r ? toHost(r) : undefined;
  };

  return {
    listHosts: async (q) => (await listRows<HostFilters, HostRow>(db, hostList, q)).map(toHost),
    getHost: (uuid) => one('SELECT * FROM hosts WHERE uuid = ? AND deleted = 0', uuid),
    getHostByName: (name) => one('SELECT * FROM hosts WHERE live_name = ?', name),
    listHostsOfSegment: async (segmentUuid) =>
      (await db.rows<HostRow>('SELECT * FROM hosts WHERE failover_segment_id = ? AND deleted = 0 ORDER BY id', [segmentUuid])).map(toHost),

    createHost: async (segmentUuid, input, now) => {
      try {
        return await db.tx(async (c) => {
          // A shared lock on the live segment row: a concurrent deleteSegment (which updates that row) waits for
          // this insert and then soft-deletes the new host with the others, instead of leaving a live orphan.
          const seg = await c.rows('SELECT 1 FROM failover_segments WHERE uuid = ? AND deleted = 0 LOCK IN SHARE MODE', [segmentUuid]);
          if (!seg.length) throw segmentNotFound(segmentUuid);
          const { insertId } = await c.run(
            `INSERT INTO hosts (uuid, created_at, name, type, control_attributes, reserved, on_maintenance, failover_segment_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            [newUuid(), us(now), input.name, input.type, input.controlAttributes, input.reserved ? 1 : 0, input.onMaintenance ? 1 : 0, segmentUuid],
          );
          return toHost((await c.rows<HostRow>('SELECT * FROM hosts WHERE id = ?', [insertId]))[0]!);
        });
      } catch (e) {
        if (isDuplicateKey(e, 'hosts_live_name')) throw duplicateHostName(input.name);
        throw e;
      }
    },

    updateHost: async (uuid, patch, now) => {
      const { set, params } = setClause(hostPatchable, patch, now);
      try {
        return await db.tx(async (c) => {
          const { affectedRows } = await c.run(`UPDATE hosts SET ${set} WHERE uuid = ? AND deleted = 0`, [...params, uuid]);
          if (affectedRows === 0) throw hostNotFound(uuid);
          return toHost((await c.rows<HostRow>('SELECT * FROM hosts WHERE uuid = ? AND deleted = 0', [uuid]))[0]!);
        });
      } catch (e) {
        if (isDuplicateKey(e, 'hosts_live_name')) throw duplicateHostName(patch.name!);
        throw e;
      }
    },

    deleteHost: async (uuid, now) => {
      const { affectedRows } = await db.run('UPDATE hosts SET deleted = 1, deleted_at = ? WHERE uuid = ? AND deleted = 0', [us(now), uuid]);
      if (affectedRows === 0) throw hostNotFound(uuid);
    },

    hostInUse: async (uuid) => {
      const [r] = await db.rows<{ used: unknown }>(
        `SELECT EXISTS (
           SELECT 1 FROM notifications WHERE source_host_uuid = ? AND deleted = 0 AND status IN (?)
         ) AS used`,
        [uuid, IN_PROGRESS_STATUSES],
      );
      return Number(r?.used) === 1;
    },
  };
}
