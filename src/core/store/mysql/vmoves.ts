// VM moves (API 1.3) on MySQL: same behaviour as ../sqlite/vmoves.ts (whose list spec it reuses).

import { notFound } from '../../domain/errors.ts';
import type { VMove } from '../../domain/model.ts';
import { notificationNotFound } from '../sqlite/notifications.ts';
import { toVMove, us } from '../sqlite/rows.ts';
import { vmoveList } from '../sqlite/vmoves.ts';
import type { ListQuery, NewVMove, VMoveFilters, VMovePatch } from '../types.ts';
import type { Db } from './connection.ts';
import { listRows } from './listing.ts';

const timeOrNull = (v: unknown) => (v === null ? null : us(v as Date));
const PATCHABLE: [keyof VMovePatch, string, (v: unknown) => unknown][] = [
  ['destHost', 'dest_host', (v) => v],
  ['startTime', 'start_time', timeOrNull],
  ['endTime', 'end_time', timeOrNull],
  ['status', 'status', (v) => v],
  ['message', 'message', (v) => v],
];

export function vmoveRepo(db: Db, newUuid: () => string) {
  return {
    createVMove(input: NewVMove, now: Date): Promise<VMove> {
      return db.tx(async (c) => {
        // A shared lock on the live notification: purge cannot remove it between this check and the insert.
        if (!(await c.rows('SELECT 1 FROM notifications WHERE uuid = ? AND deleted = 0 LOCK IN SHARE MODE', [input.notificationUuid])).length) {
          throw notificationNotFound(input.notificationUuid);
        }
        const { insertId } = await c.run(
          `INSERT INTO vmoves (uuid, created_at, notification_uuid, instance_uuid, instance_name, source_host, dest_host, status, type)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [newUuid(), us(now), input.notificationUuid, input.instanceUuid, input.instanceName, input.sourceHost, input.destHost, input.status, input.type],
        );
        return toVMove((await c.rows('SELECT * FROM vmoves WHERE id = ?', [insertId]))[0]!);
      });
    },

    updateVMove(uuid: string, patch: VMovePatch, now: Date): Promise<VMove> {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [key, column, toDb] of PATCHABLE) {
        if (patch[key] === undefined) continue;
        sets.push(`${column} = ?`);
        params.push(toDb(patch[key]));
      }
      sets.push('updated_at = ?');
      params.push(us(now));
      return db.tx(async (c) => {
        const { affectedRows } = await c.run(`UPDATE vmoves SET ${sets.join(', ')} WHERE uuid = ? AND deleted = 0`, [...params, uuid]);
        if (affectedRows === 0) throw notFound(`No vmove with id ${uuid}.`);
        return toVMove((await c.rows('SELECT * FROM vmoves WHERE uuid = ? AND deleted = 0', [uuid]))[0]!);
      });
    },

    async getVMove(notificationUuid: string, uuid: string): Promise<VMove | undefined> {
      const [r] = await db.rows('SELECT * FROM vmoves WHERE uuid = ? AND notification_uuid = ? AND deleted = 0', [uuid, notificationUuid]);
      return r ? toVMove(r) : undefined;
    },

    listVMoves: async (q: ListQuery<VMoveFilters>) => (await listRows(db, vmoveList, q)).map(toVMove),
  };
}
