// Bulk import of rows that already have their identity (`masakari db import-masakari`): the dialect-neutral half.
// Each dialect runs, inside ONE transaction, first the conflict probes (every UUID of the batch against the target's
// rows, deleted ones included, since a UUID is never reused; every live name against the target's live names), and
// only when none reports a conflict, the inserts. So a refused import changes nothing.
//
// The rows keep their integer ids (Masakari's list markers) where the target has no row with that id yet; a taken id
// is dropped and the database numbers the row (such rows are inserted last, after the explicit ids).

import type { ImportBatch, ImportConflict, ImportResult } from '../types.ts';
import { payloadKey } from '../payload-key.ts';

/** One query of the probe phase: its rows are judged into conflicts (or, for `ids`, the ids already taken). */
/** A row as both drivers return it for these probes (text and numbers only). */
export type ProbeRow = Record<string, string | number | null>;

export interface Probe {
  sql: string;
  params: unknown[];
  judge(rows: ProbeRow[]): ImportConflict[];
}

export interface Statement {
  sql: string;
  params: unknown[];
}

const CHUNK = 400;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

type Kind = ImportConflict['kind'];
const TABLE: Record<Kind, string> = { segment: 'failover_segments', host: 'hosts', notification: 'notifications', vmove: 'vmoves' };
const WORD: Record<Kind, string> = { segment: 'failover segment', host: 'host', notification: 'notification', vmove: 'VM move' };

/** UUID probes: any row of the target (deleted or not) with one of these UUIDs is a conflict. */
function uuidProbes(kind: Kind, items: { uuid: string; name?: string }[]): Probe[] {
  const byUuid = new Map(items.map((i) => [i.uuid, i]));
  const nameCol = kind === 'segment' || kind === 'host' ? 'name' : "''";
  return chunks(items.map((i) => i.uuid)).map((uuids) => ({
    sql: `SELECT uuid, ${nameCol} AS name, deleted FROM ${TABLE[kind]} WHERE uuid IN (${marks(uuids.length)})`,
    params: uuids,
    judge: (rows) =>
      rows.map((r) => {
        const mine = byUuid.get(String(r.uuid));
        const theirs = r.name ? ` ("${String(r.name)}"${Number(r.deleted) ? ', deleted' : ''})` : Number(r.deleted) ? ' (deleted)' : '';
        return {
          kind,
          uuid: String(r.uuid),
          ...(mine?.name !== undefined ? { name: mine.name } : {}),
          reason: `the target already has a ${WORD[kind]} with UUID ${String(r.uuid)}${theirs}`,
        };
      }),
  }));
}

/** Name probes: a live imported segment or host whose name a live target row already has. */
function nameProbes(kind: 'segment' | 'host', items: { uuid: string; name: string; deleted: number }[]): Probe[] {
  const live = items.filter((i) => i.deleted === 0);
  const byName = new Map(live.map((i) => [i.name, i]));
  return chunks(live.map((i) => i.name)).map((names) => ({
    sql: `SELECT uuid, name FROM ${TABLE[kind]} WHERE deleted = 0 AND name IN (${marks(names.length)})`,
    params: names,
    judge: (rows) =>
      rows
        // The UUID probe already reports a row that is the same one (same UUID): one conflict per cause.
        .filter((r) => byName.get(String(r.name))?.uuid !== String(r.uuid))
        .map((r) => ({
          kind,
          uuid: byName.get(String(r.name))!.uuid,
          name: String(r.name),
          reason: `the target already has a live ${WORD[kind]} named "${String(r.name)}" (UUID ${String(r.uuid)})`,
        })),
  }));
}

/** Every probe that can refuse the batch. */
export function conflictProbes(b: ImportBatch): Probe[] {
  return [
    ...uuidProbes('segment', b.segments),
    ...nameProbes('segment', b.segments),
    ...uuidProbes('host', b.hosts),
    ...nameProbes('host', b.hosts),
    ...uuidProbes('notification', b.notifications),
    ...uuidProbes('vmove', b.vmoves),
  ];
}

/** Queries whose rows are the ids (column `id`) of the batch the target already uses, per table. */
export function takenIdQueries(b: ImportBatch): { table: keyof Omit<ImportBatch, 'tasks'>; sql: string; params: unknown[] }[] {
  const out: { table: keyof Omit<ImportBatch, 'tasks'>; sql: string; params: unknown[] }[] = [];
  const tables = [
    ['segments', 'failover_segments'],
    ['hosts', 'hosts'],
    ['notifications', 'notifications'],
    ['vmoves', 'vmoves'],
  ] as const;
  for (const [key, table] of tables) {
    for (const ids of chunks(b[key].map((r) => r.id))) out.push({ table: key, sql: `SELECT id FROM ${table} WHERE id IN (${marks(ids.length)})`, params: ids });
  }
  return out;
}

function insert(table: string, row: Record<string, unknown>, keepId: boolean): Statement {
  const cols = Object.keys(row).filter((c) => keepId || c !== 'id');
  return { sql: `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${marks(cols.length)})`, params: cols.map((c) => row[c]) };
}

/**
 * The inserts, parents first (segments, hosts, notifications, then their tasks and vmoves); rows whose id is taken
 * come after every explicit id of their table and get a new one. `renumbered` counts those per table.
 */
export function insertStatements(b: ImportBatch, taken: Record<string, Set<number>>): { statements: Statement[]; renumbered: Record<string, number> } {
  const statements: Statement[] = [];
  const renumbered: Record<string, number> = {};
  const table = <R extends { id: number }>(key: string, name: string, rows: R[], shape: (r: R) => Record<string, unknown>) => {
    const clash = taken[key] ?? new Set<number>();
    const late: Statement[] = [];
    for (const r of rows) (clash.has(r.id) ? late : statements).push(insert(name, shape(r), !clash.has(r.id)));
    statements.push(...late);
    renumbered[name] = late.length;
  };
  table('segments', 'failover_segments', b.segments, (r) => ({ ...r }));
  table('hosts', 'hosts', b.hosts, (r) => ({ ...r }));
  // payload_key: what duplicate detection looks candidates up by (payload-key.ts); claims start free.
  table('notifications', 'notifications', b.notifications, (r) => ({ ...r, payload_key: payloadKey(JSON.parse(r.payload)) }));
  for (const t of b.tasks) statements.push(insert('workflow_tasks', { ...t }, true));
  table('vmoves', 'vmoves', b.vmoves, (r) => ({ ...r }));
  return { statements, renumbered };
}

/** Row counts per table of a batch (what an import writes, or would write). */
export function batchCounts(b: ImportBatch): ImportResult['counts'] {
  return {
    failover_segments: b.segments.length,
    hosts: b.hosts.length,
    notifications: b.notifications.length,
    workflow_tasks: b.tasks.length,
    vmoves: b.vmoves.length,
  };
}
