// Turns the rows of Masakari's database into an ImportBatch in our column format (src/core/store/types.ts).
//
// What maps to what:
// - failover_segments, hosts, notifications: column for column; UUIDs, ids, times and soft-delete kept. Masakari
//   marks a deleted row with deleted = its id (oslo.db's soft delete); here deleted is 0/1. Deleted rows come over
//   as deleted (invisible in every API answer, their UUIDs stay taken), so nothing a client saw can come back.
// - progress details (API 1.1 recovery_workflow_details): Masakari 14 keeps them in taskflow's persistence tables
//   (logbooks, flowdetails, atomdetails; the logbook's uuid is the notification's), in the database of its
//   `[taskflow] connection`, often the same as `[database] connection`. A task appears when its atom has progress
//   details, as Masakari shows them; tasks are ordered by their first progress timestamp (the order they ran).
//   A later Masakari's own notifications_progress_details table would be read instead when present.
// - vmoves: Masakari 2023.2 and later (API 1.3); Masakari 14 has no such table, then there are none.
// Times are Masakari's naive UTC DATETIME text; here integer microseconds.

import type { ImportBatch } from '../../core/store/types.ts';
import type { HostColumns, NotificationColumns, SegmentColumns, TaskColumns, VMoveColumns } from '../../core/store/sql/rows.ts';
import { MasakariSourceError, type SourceDb, type SourceRow, type SourceValue } from './source.ts';

export interface SourceReport {
  /** Rows skipped, each with why (e.g. a task whose notification is not imported). */
  skipped: string[];
  /** Facts about the source worth printing (which optional tables exist, where progress details came from). */
  notes: string[];
}

/** "2026-12-07 07:40:12[.123456]" (UTC) -> microseconds since the epoch; null stays null. */
export function micros(v: SourceValue | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?/.exec(String(v));
  if (!m) throw new MasakariSourceError(`unexpected time value in Masakari's database: ${String(v)}`);
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  return ms * 1000 + Number((m[3] ?? '').padEnd(6, '0'));
}

const flag = (v: SourceValue | undefined, dflt: number): number => (v === null || v === undefined ? dflt : Number(v) ? 1 : 0);
const text = (v: SourceValue | undefined): string | null => (v === null || v === undefined ? null : String(v));

/**
 * The columns every Masakari table has from oslo.db's models (id, created/updated/deleted times, soft delete), and
 * the row's UUID (`uuid`, or `notification_uuid` in notifications), in our column format.
 */
function rowBase(r: SourceRow, uuid: SourceValue | undefined) {
  return {
    id: Number(r.id),
    uuid: String(uuid),
    created_at: micros(r.created_at) ?? 0,
    updated_at: micros(r.updated_at),
    deleted_at: micros(r.deleted_at),
    deleted: flag(r.deleted, 0),
  };
}

async function requireTable(db: SourceDb, table: string): Promise<void> {
  if (!(await db.hasTable(table))) {
    throw new MasakariSourceError(`${db.display} has no table ${table}: is it Masakari's database (run masakari-manage db sync there first)?`);
  }
}

/** Masakari's notifications carry `notification_uuid` (ours, for one, say `uuid`): a cheap check of whose schema it is. */
async function requireMasakariSchema(db: SourceDb): Promise<void> {
  for (const t of ['failover_segments', 'hosts', 'notifications']) await requireTable(db, t);
  if (!(await db.columns('notifications')).has('notification_uuid')) {
    throw new MasakariSourceError(`${db.display} is not OpenStack Masakari's database (its notifications table has no notification_uuid column)`);
  }
}

export async function readSegments(db: SourceDb): Promise<SegmentColumns[]> {
  await requireTable(db, 'failover_segments');
  const cols = await db.columns('failover_segments');
  const rows = await db.rows('SELECT * FROM failover_segments ORDER BY id');
  return rows.map((r) => ({
    ...rowBase(r, r.uuid),
    name: String(r.name),
    description: text(r.description),
    recovery_method: String(r.recovery_method),
    service_type: String(r.service_type),
    // `enabled` arrived in Masakari 9 (API 1.2); older rows are enabled.
    enabled: cols.has('enabled') ? flag(r.enabled, 1) : 1,
  }));
}

export async function readHosts(db: SourceDb): Promise<HostColumns[]> {
  await requireTable(db, 'hosts');
  const rows = await db.rows('SELECT * FROM hosts ORDER BY id');
  return rows.map((r) => ({
    ...rowBase(r, r.uuid),
    name: String(r.name),
    type: String(r.type),
    control_attributes: String(r.control_attributes ?? ''),
    reserved: flag(r.reserved, 0),
    on_maintenance: flag(r.on_maintenance, 0),
    failover_segment_id: String(r.failover_segment_id),
  }));
}

export async function readNotifications(db: SourceDb, report: SourceReport): Promise<NotificationColumns[]> {
  await requireTable(db, 'notifications');
  const rows = await db.rows('SELECT * FROM notifications ORDER BY id');
  const cols = await db.columns('notifications');
  if (cols.has('failover_segment_uuid') || cols.has('message')) {
    report.notes.push("notifications.failover_segment_uuid and notifications.message (a newer Masakari's) are not carried over: our API has no such fields");
  }
  return rows.map((r) => {
    let payload = text(r.payload);
    if (payload === null) {
      payload = '{}';
      report.skipped.push(`notification ${String(r.notification_uuid)}: no payload in Masakari's row, imported with an empty one`);
    }
    return {
      ...rowBase(r, r.notification_uuid),
      type: String(r.type),
      generated_time: micros(r.generated_time) ?? 0,
      source_host_uuid: String(r.source_host_uuid),
      payload,
      status: String(r.status),
      claimed_by: null,
      claim_expires_at: null,
      attempts: 0,
      last_error: null,
    };
  });
}

export async function readVMoves(db: SourceDb, report: SourceReport): Promise<VMoveColumns[]> {
  if (!(await db.hasTable('vmoves'))) {
    report.notes.push('no vmoves table in the source (Masakari before 2023.2 records no VM moves)');
    return [];
  }
  const rows = await db.rows('SELECT * FROM vmoves ORDER BY id');
  return rows.map((r) => ({
    ...rowBase(r, r.uuid),
    notification_uuid: String(r.notification_uuid),
    instance_uuid: String(r.instance_uuid),
    instance_name: text(r.instance_name),
    source_host: String(r.source_host ?? ''),
    dest_host: text(r.dest_host),
    start_time: micros(r.start_time),
    end_time: micros(r.end_time),
    status: String(r.status ?? ''),
    type: String(r.type ?? ''),
    message: text(r.message),
  }));
}

/** One progress detail as Masakari keeps it (taskflow's atom meta, or a notifications_progress_details row). */
interface MasakariDetail {
  timestamp?: string;
  message?: string;
  progress?: number | string;
}

interface AtomMeta {
  progress?: number;
  progress_details?: { details?: { progress_details?: MasakariDetail[] } };
}

/** A task's progress details in our format (TaskColumns.details: JSON of {t, m, p}). */
const detailsJson = (details: MasakariDetail[]): string =>
  JSON.stringify(details.map((d) => ({ t: micros(d.timestamp) ?? 0, m: String(d.message ?? ''), p: Number(d.progress ?? 0) })));

/** When a task last changed: its row's updated_at, else created_at. */
const lastChange = (r: SourceRow): number => micros(r.updated_at) ?? micros(r.created_at) ?? 0;

function parseJson<T>(v: SourceValue | undefined): T | undefined {
  if (v === null || v === undefined) return undefined;
  try {
    return JSON.parse(String(v)) as T;
  } catch {
    return undefined;
  }
}

/** The result we store with an imported task: marks it as history, never a step our engine may resume. */
export const IMPORTED_TASK_RESULT = JSON.stringify({ key: 'imported-from-masakari', run: -1 });

/**
 * Progress details of the given notifications from taskflow's tables in `db` (the `[taskflow] connection`
 * database), or from a notifications_progress_details table when the Masakari version has one.
 */
export async function readProgressDetails(db: SourceDb, notificationUuids: Set<string>, report: SourceReport): Promise<TaskColumns[]> {
  if (await db.hasTable('notifications_progress_details')) return readProgressTable(db, notificationUuids, report);
  if (!(await db.hasTable('logbooks')) || !(await db.hasTable('flowdetails')) || !(await db.hasTable('atomdetails'))) {
    report.notes.push(
      `no taskflow tables (logbooks, flowdetails, atomdetails) in ${db.display}: no progress details imported (pass --taskflow-url when masakari.conf's [taskflow] connection is another database)`,
    );
    return [];
  }
  const rows = await db.rows(
    `SELECT f.parent_uuid AS notification_uuid, f.created_at AS flow_created, f.uuid AS flow_uuid,
            a.name, a.state, a.meta, a.created_at, a.updated_at
     FROM flowdetails f JOIN atomdetails a ON a.parent_uuid = f.uuid
     ORDER BY f.created_at, f.uuid`,
  );
  const byNotification = new Map<string, { flow: string; flowAt: number; first: number; row: SourceRow; meta: AtomMeta }[]>();
  for (const r of rows) {
    const uuid = String(r.notification_uuid);
    if (!notificationUuids.has(uuid)) continue;
    const meta = parseJson<AtomMeta>(r.meta);
    const details = meta?.progress_details?.details?.progress_details;
    if (!meta || !Array.isArray(details) || details.length === 0) continue; // never ran: Masakari does not show it
    const first = Math.min(...details.map((d) => micros(d.timestamp) ?? Infinity));
    const list = byNotification.get(uuid) ?? [];
    list.push({ flow: String(r.flow_uuid), flowAt: micros(r.flow_created) ?? 0, first, row: r, meta });
    byNotification.set(uuid, list);
  }
  const tasks: TaskColumns[] = [];
  for (const [uuid, atoms] of byNotification) {
    atoms.sort((a, b) => a.flowAt - b.flowAt || a.first - b.first);
    atoms.forEach((a, i) => {
      const details = a.meta.progress_details!.details!.progress_details!;
      tasks.push({
        notification_uuid: uuid,
        seq: i + 1,
        name: String(a.row.name),
        state: String(a.row.state ?? 'PENDING'),
        progress: Number(a.meta.progress ?? 0),
        details: detailsJson(details),
        result: IMPORTED_TASK_RESULT,
        updated_at: lastChange(a.row),
      });
    });
  }
  return tasks;
}

/** A Masakari that keeps progress details in its own table: one row per task, details as JSON text. */
async function readProgressTable(db: SourceDb, notificationUuids: Set<string>, report: SourceReport): Promise<TaskColumns[]> {
  report.notes.push('progress details read from the notifications_progress_details table');
  const rows = await db.rows('SELECT * FROM notifications_progress_details ORDER BY id');
  const seq = new Map<string, number>();
  const tasks: TaskColumns[] = [];
  for (const r of rows) {
    const uuid = String(r.notification_uuid);
    if (!notificationUuids.has(uuid) || flag(r.deleted, 0)) continue;
    const n = (seq.get(uuid) ?? 0) + 1;
    seq.set(uuid, n);
    const details = parseJson<MasakariDetail[]>(r.progress_details) ?? [];
    tasks.push({
      notification_uuid: uuid,
      seq: n,
      name: String(r.name),
      state: String(r.state ?? 'PENDING'),
      progress: Number(r.progress ?? 0),
      details: detailsJson(details),
      result: IMPORTED_TASK_RESULT,
      updated_at: lastChange(r),
    });
  }
  return tasks;
}

export interface ReadOptions {
  includeHistory: boolean;
  /** The database of masakari.conf's [taskflow] connection when it is not the source itself. */
  taskflow?: SourceDb;
}

/** Everything to import from Masakari's database, and what the reader noticed on the way. */
export async function readMasakari(db: SourceDb, opts: ReadOptions): Promise<{ batch: ImportBatch; report: SourceReport }> {
  const report: SourceReport = { skipped: [], notes: [] };
  await requireMasakariSchema(db);
  const segments = await readSegments(db);
  const hosts = await readHosts(db);
  if (!opts.includeHistory) return { batch: { segments, hosts, notifications: [], tasks: [], vmoves: [] }, report };
  const notifications = await readNotifications(db, report);
  const uuids = new Set(notifications.map((n) => n.uuid));
  const tasks = await readProgressDetails(opts.taskflow ?? db, uuids, report);
  const vmoves = (await readVMoves(db, report)).filter((v) => {
    if (uuids.has(v.notification_uuid)) return true;
    report.skipped.push(`VM move ${v.uuid}: its notification ${v.notification_uuid} is not in the source (purged there)`);
    return false;
  });
  return { batch: { segments, hosts, notifications, tasks, vmoves }, report };
}
