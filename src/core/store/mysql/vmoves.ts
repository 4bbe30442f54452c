// VM moves (API 1.3) on MySQL: one row per instance the host-recovery workflow moves.

import { notificationNotFound, vmoveNotFound } from '../sql/errors.ts';
import { vmoveList } from '../sql/lists.ts';
import { setClause, vmovePatchable } from '../sql/patch.ts';
import { toVMove, us } from '../sql/rows.ts';
import type { VMoveFilters, VMoveStore } from '../types.ts';
import type { Db } from './connection.ts';
import { fenced } from './engine.ts';
import { listRows } from './listing.ts';
import type { VMoveRow } from './schema.ts';

export function vmoveRepo(db: Db, newUuid: () => string): VMoveStore {
  return {
    createVMove: (input, now, fence) => {
      // The uuid is chosen once, so a run after an unknown commit recognises the row it may have inserted.
      const uuid = newUuid();
      return db.tx(
        async (c, { retry }) => {
          await fenced(c, fence, now);
          if (retry) {
            const [mine] = await c.rows<VMoveRow>('SELECT * FROM vmoves WHERE uuid = ?', [uuid]);
            if (mine) return toVMove(mine);
          }
          // A shared lock on the live notification: purge cannot remove it between this check and the insert.
          if (!(await c.rows('SELECT 1 FROM notifications WHERE uuid = ? AND deleted = 0 LOCK IN SHARE MODE', [input.notificationUuid])).length) {
            throw notificationNotFound(input.notificationUuid);
          }
          const { insertId } = await c.run(
            `INSERT INTO vmoves (uuid, created_at, notification_uuid, instance_uuid, instance_name, source_host, dest_host, status, type)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            [uuid, us(now), input.notificationUuid, input.instanceUuid, input.instanceName, input.sourceHost, input.destHost, input.status, input.type],
          );
          return toVMove((await c.rows<VMoveRow>('SELECT * FROM vmoves WHERE id = ?', [insertId]))[0]!);
        },
        { idempotent: true },
      );
    },

    updateVMove: (uuid, patch, now, fence) => {
      const { set, params } = setClause(vmovePatchable, patch, now);
      return db.tx(
        async (c) => {
          await fenced(c, fence, now);
          const { affectedRows } = await c.run(`UPDATE vmoves SET ${set} WHERE uuid = ? AND deleted = 0`, [...params, uuid]);
          if (affectedRows === 0) throw vmoveNotFound(uuid);
          return toVMove((await c.rows<VMoveRow>('SELECT * FROM vmoves WHERE uuid = ? AND deleted = 0', [uuid]))[0]!);
        },
        { idempotent: true },
      );
    },

    getVMove: async (notificationUuid, uuid) => {
      const [r] = await db.rows<VMoveRow>('SELECT * FROM vmoves WHERE uuid = ? AND notification_uuid = ? AND deleted = 0', [uuid, notificationUuid]);
      return r ? toVMove(r) : undefined;
    },

    listVMoves: async (q) => (await listRows<VMoveFilters, VMoveRow>(db, vmoveList, q)).map(toVMove),
  };
}
