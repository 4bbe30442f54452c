// VM moves (API 1.3): one row per instance the host-recovery workflow moves.

import { notFound } from '../../domain/errors.ts';
import type { VMove } from '../../domain/model.ts';
import type { ListQuery, NewVMove, VMoveFilters, VMovePatch } from '../types.ts';
import type { Connection } from './connection.ts';
import { listRows, type ListSpec } from './listing.ts';
import { toVMove, us, type Raw } from './rows.ts';
import { notificationNotFound } from './notifications.ts';

export const vmoveList: ListSpec<VMoveFilters> = {
  table: 'vmoves',
  sortKeys: {
    created_at: { column: 'created_at', nullable: false },
    updated_at: { column: 'updated_at', nullable: true },
    uuid: { column: 'uuid', nullable: false },
    start_time: { column: 'start_time', nullable: true },
    type: { column: 'type', nullable: false },
    status: { column: 'status', nullable: false },
  },
  filters: (f) => {
    const clauses = ['notification_uuid = ?'];
    const params: unknown[] = [f.notificationUuid];
    if (f.status !== undefined) (clauses.push('status = ?'), params.push(f.status));
    if (f.type !== undefined) (clauses.push('type = ?'), params.push(f.type));
    return { clauses, params };
  },
};

const timeOrNull = (v: unknown) => (v === null ? null : us(v as Date));
const PATCHABLE: [keyof VMovePatch, string, (v: unknown) => unknown][] = [
  ['destHost', 'dest_host', (v) => v],
  ['startTime', 'start_time', timeOrNull],
  ['endTime', 'end_time', timeOrNull],
  ['status', 'status', (v) => v],
  ['message', 'message', (v) => v],
];

export function vmoveRepo(conn: Connection, newUuid: () => string) {
  return {
    createVMove(input: NewVMove, now: Date): VMove {
      return conn.db
        .transaction(() => {
          if (!conn.stmt('SELECT 1 FROM notifications WHERE uuid = ? AND deleted = 0').get(input.notificationUuid)) {
            throw notificationNotFound(input.notificationUuid);
          }
          const r = conn
            .stmt(
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
            ) as Raw;
          return toVMove(r);
        })
        .immediate();
    },

    updateVMove(uuid: string, patch: VMovePatch, now: Date): VMove {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [key, column, toDb] of PATCHABLE) {
        if (patch[key] === undefined) continue;
        sets.push(`${column} = ?`);
        params.push(toDb(patch[key]));
      }
      sets.push('updated_at = ?');
      params.push(us(now));
      const r = conn.stmt(`UPDATE vmoves SET ${sets.join(', ')} WHERE uuid = ? AND deleted = 0 RETURNING *`).get(...params, uuid) as
        | Raw
        | undefined;
      if (!r) throw notFound(`No vmove with id ${uuid}.`);
      return toVMove(r);
    },

    getVMove(notificationUuid: string, uuid: string): VMove | undefined {
      const r = conn.stmt('SELECT * FROM vmoves WHERE uuid = ? AND notification_uuid = ? AND deleted = 0').get(uuid, notificationUuid) as
        | Raw
        | undefined;
      return r ? toVMove(r) : undefined;
    },

    listVMoves: (q: ListQuery<VMoveFilters>) => listRows(conn, vmoveList, q).map(toVMove),
  };
}
