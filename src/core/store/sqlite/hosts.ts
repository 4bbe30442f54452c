// Hosts: names unique across all live hosts of all segments; soft delete.

import { conflict, notFound } from '../../domain/errors.ts';
import { IN_PROGRESS_STATUSES, type Host } from '../../domain/model.ts';
import type { HostFilters, HostPatch, ListQuery, NewHost } from '../types.ts';
import { isUniqueViolation, type Connection } from './connection.ts';
import { listRawRows, type ListSpec } from './listing.ts';
import { hostAt, toHost, us, type Raw } from './rows.ts';
import { segmentNotFound } from './segments.ts';

export const hostList: ListSpec<HostFilters> = {
  table: 'hosts',
  sortKeys: {
    created_at: { column: 'created_at', nullable: false },
    type: { column: 'type', nullable: false },
    name: { column: 'name', nullable: false },
    updated_at: { column: 'updated_at', nullable: true },
    uuid: { column: 'uuid', nullable: false },
    reserved: { column: 'reserved', nullable: false },
    on_maintenance: { column: 'on_maintenance', nullable: false },
  },
  filters: (f) => {
    const clauses = ['failover_segment_id = ?'];
    const params: unknown[] = [f.segmentUuid];
    if (f.type !== undefined) (clauses.push('type = ?'), params.push(f.type));
    if (f.onMaintenance !== undefined) (clauses.push('on_maintenance = ?'), params.push(f.onMaintenance ? 1 : 0));
    if (f.reserved !== undefined) (clauses.push('reserved = ?'), params.push(f.reserved ? 1 : 0));
    return { clauses, params };
  },
};

const duplicateName = (name: string) => conflict(`Host with name ${name} already exists.`);
const hostNotFound = (uuid: string) => notFound(`No host with id ${uuid}.`);
const IN_PROGRESS_SQL = IN_PROGRESS_STATUSES.map((s) => `'${s}'`).join(', ');

const PATCHABLE: [keyof HostPatch, string, (v: unknown) => unknown][] = [
  ['name', 'name', (v) => v],
  ['type', 'type', (v) => v],
  ['controlAttributes', 'control_attributes', (v) => v],
  ['reserved', 'reserved', (v) => (v ? 1 : 0)],
  ['onMaintenance', 'on_maintenance', (v) => (v ? 1 : 0)],
];

export function hostRepo(conn: Connection, newUuid: () => string) {
  const one = (sql: string, ...params: unknown[]) => {
    const r = conn.stmt(sql).get(...params) as Raw | undefined;
    return r ? toHost(r) : undefined;
  };

  return {
    listHosts: (q: ListQuery<HostFilters>) => {
      const { rows, cols } = listRawRows(conn, hostList, q);
      return rows.map((a) => hostAt(a, cols));
    },
    getHost: (uuid: string) => one('SELECT * FROM hosts WHERE uuid = ? AND deleted = 0', uuid),
    getHostByName: (name: string) => one('SELECT * FROM hosts WHERE name = ? AND deleted = 0', name),
    listHostsOfSegment: (segmentUuid: string): Host[] =>
      (conn.stmt('SELECT * FROM hosts WHERE failover_segment_id = ? AND deleted = 0 ORDER BY id').all(segmentUuid) as Raw[]).map(
        toHost,
      ),

    createHost(segmentUuid: string, input: NewHost, now: Date): Host {
      return conn.db
        .transaction(() => {
          const seg = conn.stmt('SELECT 1 FROM failover_segments WHERE uuid = ? AND deleted = 0').get(segmentUuid);
          if (!seg) throw segmentNotFound(segmentUuid);
          try {
            const r = conn
              .stmt(
                `INSERT INTO hosts (uuid, created_at, name, type, control_attributes, reserved, on_maintenance, failover_segment_id)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
              )
              .get(
                newUuid(),
                us(now),
                input.name,
                input.type,
                input.controlAttributes,
                input.reserved ? 1 : 0,
                input.onMaintenance ? 1 : 0,
                segmentUuid,
              ) as Raw;
            return toHost(r);
          } catch (e) {
            if (isUniqueViolation(e, 'hosts.name')) throw duplicateName(input.name);
            throw e;
          }
        })
        .immediate();
    },

    updateHost(uuid: string, patch: HostPatch, now: Date): Host {
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
        const r = conn.stmt(`UPDATE hosts SET ${sets.join(', ')} WHERE uuid = ? AND deleted = 0 RETURNING *`).get(...params, uuid) as
          | Raw
          | undefined;
        if (!r) throw hostNotFound(uuid);
        return toHost(r);
      } catch (e) {
        if (isUniqueViolation(e, 'hosts.name')) throw duplicateName(patch.name!);
        throw e;
      }
    },

    deleteHost(uuid: string, now: Date): void {
      const changed = conn.stmt('UPDATE hosts SET deleted = 1, deleted_at = ? WHERE uuid = ? AND deleted = 0').run(us(now), uuid).changes;
      if (changed === 0) throw hostNotFound(uuid);
    },

    hostInUse: (uuid: string): boolean =>
      conn
        .stmt(
          `SELECT EXISTS (
             SELECT 1 FROM notifications
             WHERE source_host_uuid = ? AND deleted = 0 AND status IN (${IN_PROGRESS_SQL})
           ) AS used`,
        )
        .pluck()
        .get(uuid) === 1,
  };
}
