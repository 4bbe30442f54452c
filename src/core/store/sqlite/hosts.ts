// Hosts: names unique across all live hosts of all segments; soft delete.

import { IN_PROGRESS_STATUSES } from '../../domain/model.ts';
import { duplicateHostName, hostNotFound, segmentNotFound } from '../sql/errors.ts';
import { hostList } from '../sql/lists.ts';
import { hostPatchable, setClause } from '../sql/patch.ts';
import { toHost, us } from '../sql/rows.ts';
import type { HostStore } from '../types.ts';
import { isUniqueViolation, type Connection } from './connection.ts';
import { listRawRows } from './listing.ts';
import { hostAt } from './rows.ts';
import type { HostRow } from './schema.ts';

const IN_PROGRESS_SQL = IN_PROGRESS_STATUSES.map((s) => `'${s}'`).join(', ');

export function hostRepo(conn: Connection, newUuid: () => string): HostStore {
  const one = async (sql: string, param: string) => {
    const r = conn.stmt<HostRow>(sql).get(param);
    return r ? toHost(r) : undefined;
  };

  return {
    listHosts: async (q) => {
      const { rows, cols } = listRawRows(conn, hostList, q);
      return rows.map((a) => hostAt(a, cols));
    },
    getHost: (uuid) => one('SELECT * FROM hosts WHERE uuid = ? AND deleted = 0', uuid),
    getHostByName: (name) => one('SELECT * FROM hosts WHERE name = ? AND deleted = 0', name),
    listHostsOfSegment: async (segmentUuid) =>
      conn.stmt<HostRow>('SELECT * FROM hosts WHERE failover_segment_id = ? AND deleted = 0 ORDER BY id').all(segmentUuid).map(toHost),

    createHost: (segmentUuid, input, now) =>
      conn.write(() =>
        conn.db
          .transaction(() => {
            const seg = conn.stmt('SELECT 1 FROM failover_segments WHERE uuid = ? AND deleted = 0').get(segmentUuid);
            if (!seg) throw segmentNotFound(segmentUuid);
            try {
              const r = conn
                .stmt<HostRow>(
                  `INSERT INTO hosts (uuid, created_at, name, type, control_attributes, reserved, on_maintenance, failover_segment_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
                )
                .get(newUuid(), us(now), input.name, input.type, input.controlAttributes, input.reserved ? 1 : 0, input.onMaintenance ? 1 : 0, segmentUuid)!;
              return toHost(r);
            } catch (e) {
              if (isUniqueViolation(e, 'hosts.name')) throw duplicateHostName(input.name);
              throw e;
            }
          })
          .immediate(),
      ),

    updateHost: (uuid, patch, now) =>
      conn.write(() => {
        const { set, params } = setClause(hostPatchable, patch, now);
        try {
          const r = conn.stmt<HostRow>(`UPDATE hosts SET ${set} WHERE uuid = ? AND deleted = 0 RETURNING *`).get(...params, uuid);
          if (!r) throw hostNotFound(uuid);
          return toHost(r);
        } catch (e) {
          if (isUniqueViolation(e, 'hosts.name')) throw duplicateHostName(patch.name!);
          throw e;
        }
      }),

    deleteHost: (uuid, now) =>
      conn.write(() => {
        const changed = conn.stmt('UPDATE hosts SET deleted = 1, deleted_at = ? WHERE uuid = ? AND deleted = 0').run(us(now), uuid).changes;
        if (changed === 0) throw hostNotFound(uuid);
      }),

    hostInUse: async (uuid) =>
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
