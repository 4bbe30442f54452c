// `masakari db import-masakari SOURCE_URL [--dry-run] [--include-history] [--taskflow-url URL]`: brings a running
// Masakari's segments and hosts (and with --include-history its notifications, progress details and VM moves) into
// our database, keeping every UUID. One transaction: when a UUID or a live name is already taken in our database it
// explains each conflict and changes nothing. docs/migrating.md walks through the whole move.
//
// Exit codes: 0 imported (or, with --dry-run, would import); 1 refused (conflicts) or the source could not be
// read; 2 bad usage or configuration.

import type { Argv, CommandModule } from 'yargs';
import { configFromArgs, EXIT_BAD_CONFIG, runCommand, type GlobalArgs } from './common.ts';
import { maskUrlCredentials } from '../core/mask.ts';
import { DatabaseUrlError, openStore, SchemaError } from '../core/store/open.ts';
import type { ImportBatch, ImportResult, Store } from '../core/store/types.ts';
import { MasakariSourceError, openSourceDb, type SourceDb } from '../drivers/masakari-db/source.ts';
import { readMasakari, type SourceReport } from '../drivers/masakari-db/reader.ts';

interface ImportArgs extends GlobalArgs {
  source: string;
  'dry-run': boolean;
  'include-history': boolean;
  'taskflow-url'?: string;
}

const UNFINISHED = new Set(['new', 'running', 'error']);

/** Everything printed goes through here: a URL in a message never shows its password. */
const say = (line = '') => process.stdout.write(`${maskUrlCredentials(line)}\n`);

function count<T>(items: T[], key: (t: T) => string): string {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m].map(([k, n]) => `${k} ${n}`).join(', ');
}

/** The plan: what the source holds and what the import does with it. */
export function describePlan(b: ImportBatch, report: SourceReport, includeHistory: boolean): string[] {
  const live = <T extends { deleted: number }>(rows: T[]) => rows.filter((r) => r.deleted === 0);
  const out: string[] = [];
  const segs = live(b.segments);
  out.push(
    `failover segments: ${segs.length} live${segs.length ? ` (${count(segs, (s) => s.recovery_method)})` : ''}, ${b.segments.length - segs.length} deleted`,
  );
  const hosts = live(b.hosts);
  out.push(
    `hosts: ${hosts.length} live (${hosts.filter((h) => h.reserved).length} reserved, ${hosts.filter((h) => h.on_maintenance).length} on maintenance), ${b.hosts.length - hosts.length} deleted`,
  );
  if (includeHistory) {
    const ns = live(b.notifications);
    out.push(`notifications: ${ns.length} live${ns.length ? ` (${count(ns, (n) => n.status)})` : ''}, ${b.notifications.length - ns.length} deleted`);
    out.push(`progress details: ${b.tasks.length} task records of ${new Set(b.tasks.map((t) => t.notification_uuid)).size} notifications`);
    out.push(`VM moves: ${b.vmoves.length}`);
    const unfinished = ns.filter((n) => UNFINISHED.has(n.status));
    if (unfinished.length) {
      out.push(`unfinished notifications (imported as they are; our engine takes them up when the controller starts):`);
      for (const n of unfinished) out.push(`  ${n.uuid} ${n.status} ${n.type} host ${n.source_host_uuid}`);
    }
  } else {
    out.push('notifications: not imported (pass --include-history to bring them and their progress details over)');
  }
  out.push('deleted rows are imported as deleted: invisible in every API answer, their UUIDs stay taken');
  for (const n of report.notes) out.push(`note: ${n}`);
  for (const s of report.skipped) out.push(`skipped: ${s}`);
  return out;
}

export function describeResult(r: ImportResult, dryRun: boolean): string[] {
  const out: string[] = [];
  if (r.conflicts.length) {
    out.push(`refused: ${r.conflicts.length} conflict(s) with rows already in this database; nothing was changed:`);
    for (const c of r.conflicts) out.push(`  ${c.kind} ${c.name !== undefined ? `"${c.name}" ` : ''}(${c.uuid}): ${c.reason}`);
    out.push('resolve them (delete or rename the rows here, or import into an empty database) and run the import again');
    return out;
  }
  const renumbered = Object.entries(r.renumbered).filter(([, n]) => n > 0);
  for (const [table, n] of renumbered) out.push(`${table}: ${n} row id(s) already used here; those rows get new ids (UUIDs unchanged)`);
  const counts = Object.entries(r.counts)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  out.push(dryRun ? `dry run: would import ${counts}; nothing was written` : `imported ${counts}`);
  return out;
}

async function importMasakari(args: ImportArgs): Promise<number> {
  let source: SourceDb | undefined;
  let taskflow: SourceDb | undefined;
  let store: Store | undefined;
  try {
    source = await openSourceDb(args.source);
    if (args['taskflow-url']) taskflow = await openSourceDb(args['taskflow-url']);
    say(`source: ${source.display}${taskflow ? ` (progress details from ${taskflow.display})` : ''}`);
    const { batch, report } = await readMasakari(source, { includeHistory: args['include-history'], ...(taskflow ? { taskflow } : {}) });
    for (const line of describePlan(batch, report, args['include-history'])) say(line);
    store = await openStore(configFromArgs(args), { migrate: false });
    say(`target: ${store.dialect} database of this masakari${args['dry-run'] ? ' (dry run)' : ''}`);
    const result = await store.importRecords(batch, { dryRun: args['dry-run'] });
    for (const line of describeResult(result, args['dry-run'])) say(line);
    return result.conflicts.length ? 1 : 0;
  } catch (e) {
    if (e instanceof MasakariSourceError || e instanceof SchemaError) {
      process.stderr.write(`masakari: ${maskUrlCredentials(e.message)}\n`);
      return 1;
    }
    if (e instanceof DatabaseUrlError) {
      process.stderr.write(`masakari: ${maskUrlCredentials(e.message)}\n`);
      return EXIT_BAD_CONFIG;
    }
    throw e;
  } finally {
    await store?.close();
    await taskflow?.close();
    await source?.close();
  }
}

export const importMasakariCommand: CommandModule<GlobalArgs, ImportArgs> = {
  command: 'import-masakari <source>',
  describe: "copy segments and hosts (and with --include-history notifications) from OpenStack Masakari's database, keeping UUIDs",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('source', {
        type: 'string',
        demandOption: true,
        describe: "Masakari's [database] connection: mysql+pymysql://user:pass@host/masakari or sqlite:////path/masakari.db",
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan and the conflicts; write nothing' })
      .option('include-history', {
        type: 'boolean',
        default: false,
        describe: 'also import notifications with their status, payload, progress details and VM moves',
      })
      .option('taskflow-url', {
        type: 'string',
        describe: "masakari.conf's [taskflow] connection, when progress details live in another database than SOURCE",
      }),
  handler: (args) => runCommand(() => importMasakari(args)),
};
