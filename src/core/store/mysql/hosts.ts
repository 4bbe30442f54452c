// Hosts on MySQL: the same behaviour as ../sqlite/hosts.ts (whose list spec it reuses).

import { conflict, notFound } from '../../domain/errors.ts';
import { IN_PROGRESS_STATUSES, type Host } from '../../domain/model.ts';
import { hostList } from '../sqlite/hosts.ts';
import { segmentNotFound } from '../sqlite/segments.ts';
import { toHost, us } from '../sqlite/rows.ts';
import type { HostFilters, HostPatch, ListQuery, NewHost } from '../types.ts';
import { isDuplicateKey, type Db } from './connection.ts';
import { listRows } from './listing.ts';

const duplicateName = (name: string) => conflict(`Host with name ${name} already exists.`);
const hostNotFound = (uuid: string) => notFound(`No host with id ${uuid}.`);

const PATCHABLE: [keyof HostPatch, string, (v: unknown) => unknown][] = [
  ['name', 'name', (v) => v],
  ['type', 'type', (v) => v],
  ['controlAttributes', 'control_attributes', (v) => v],
  ['reserved', 'reserved', (v) => (v ? 1 : 0)],
  ['onMaintenance', 'on_maintenance', (v) => (v ? 1 : 0)],
];

export function hostRepo(db: Db, newUuid: () => string) {
  const one = async (sql: string, param: unknown) => {
    const [r] = await db.rows(sql, [param]);
    return r ? toHost(r) : undefined;
  };

  return {
    listHosts: async (q: ListQuery<HostFilters>) => (await listRows(db, hostList, q)).map(toHost),
    getHost: (uuid: string) => one('SELECT * FROM hosts WHERE uuid = ? AND deleted = 0', uuid),
    getHostByName: (name: string) => one('SELECT * FROM hosts WHERE live_name = ?', name),
    listHostsOfSegment: async (segmentUuid: string): Promise<Host[]> =>
      (await db.rows('SELECT * FROM hosts WHERE failover_segment_id = ? AND deleted = 0 ORDER BY id', [segmentUuid])).map(toHost),

    async createHost(segmentUuid: string, input: NewHost, now: Date): Promise<Host> {
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
          return toHost((await c.rows('SELECT * FROM hosts WHERE id = ?', [insertId]))[0]!);
        });
      } catch (e) {
        if (isDuplicateKey(e, 'hosts_live_name')) throw duplicateName(input.name);
        throw e;
      }
    },

    async updateHost(uuid: string, patch: HostPatch, now: Date): Promise<Host> {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [key, column, toDb] of PATCHABLE) {
        if (patch[key] === undefined) continue;
        sets.push(`${column} = ?`);
        params.push(toDb(patch[key]));
      }
      sets.push('updated_at = ?');
      params.push(us(now));
      try {
        return await db.tx(async (c) => {
          const { affectedRows } = await c.run(`UPDATE hosts SET ${sets.join(', ')} WHERE uuid = ? AND deleted = 0`, [...params, uuid]);
          if (affectedRows === 0) throw hostNotFound(uuid);
          return toHost((await c.rows('SELECT * FROM hosts WHERE uuid = ? AND deleted = 0', [uuid]))[0]!);
        });
      } catch (e) {
        if (isDuplicateKey(e, 'hosts_live_name')) throw duplicateName(patch.name!);
        throw e;
      }
    },

    async deleteHost(uuid: string, now: Date): Promise<void> {
      const { affectedRows } = await db.run('UPDATE hosts SET deleted = 1, deleted_at = ? WHERE uuid = ? AND deleted = 0', [us(now), uuid]);
      if (affectedRows === 0) throw hostNotFound(uuid);
    },

    hostInUse: async (uuid: string): Promise<boolean> => {
      const [r] = await db.rows(
        `SELECT EXISTS (
           SELECT 1 FROM notifications WHERE source_host_uuid = ? AND deleted = 0 AND status IN (?)
         ) AS used`,
        [uuid, IN_PROGRESS_STATUSES],
      );
      return Number(r?.used) === 1;
    },
  };
}
