// VM moves (API 1.3): one row per instance the host-recovery workflow moves.

import { notificationNotFound, vmoveNotFound } from '../sql/errors.ts';
import { vmoveList } from '../sql/lists.ts';
import { setClause, vmovePatchable } from '../sql/patch.ts';
import { toVMove, us } from '../sql/rows.ts';
import { FENCE_SQL, checkFence, fenceParams } from '../sql/fence.ts';
import type { VMoveFilters, VMoveStore } from '../types.ts';
import type { Connection } from './connection.ts';
import { listRows } from './listing.ts';
import type { VMoveRow } from './schema.ts';

export function vmoveRepo(conn: Connection, newUuid: () => string): VMoveStore {
  return {
    createVMove: (input, now, fence) =>
      conn.write(() =>
        conn.db
          .transaction(() => {
            if (fence) checkFence(fence, conn.stmt(FENCE_SQL).run(...fenceParams(fence, now)).changes);
            if (!conn.stmt('SELECT 1 FROM notifications WHERE uuid = ? AND deleted = 0').get(input.notificationUuid)) {
              throw notificationNotFound(input.notificationUuid);
            }
            const r = conn
              .stmt<VMoveRow>(
                `INSERT INTO vmoves (uuid, created_at, notification_uuid, instance_uuid, instance_name, source_host, dest_host, status, type)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
              )
              .get(
                newUuid(),
                us(now),
                input.notificationUuid,
                input.instanceUuid,
                input.instanceName,
                input.sourceHost,
                input.destHost,
                input.status,
                input.type,
              )!;
            return toVMove(r);
          })
          .immediate(),
      ),

    updateVMove: (uuid, patch, now, fence) =>
      conn.write(() =>
        conn.db
          .transaction(() => {
            if (fence) checkFence(fence, conn.stmt(FENCE_SQL).run(...fenceParams(fence, now)).changes);
            const { set, params } = setClause(vmovePatchable, patch, now);
            const r = conn.stmt<VMoveRow>(`UPDATE vmoves SET ${set} WHERE uuid = ? AND deleted = 0 RETURNING *`).get(...params, uuid);
            if (!r) throw vmoveNotFound(uuid);
            return toVMove(r);
          })
          .immediate(),
      ),

    getVMove: async (notificationUuid, uuid) => {
      const r = conn.stmt<VMoveRow>('SELECT * FROM vmoves WHERE uuid = ? AND notification_uuid = ? AND deleted = 0').get(uuid, notificationUuid);
      return r ? toVMove(r) : undefined;
    },

    listVMoves: async (q) => listRows<VMoveFilters, VMoveRow>(conn, vmoveList, q).map(toVMove),
  };
}
