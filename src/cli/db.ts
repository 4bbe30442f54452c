// `masakari db sync | version | purge`: the database chores of masakari-manage, against database.url.
// Exit codes: 0 done; 1 the database refused (e.g. a schema from a newer masakari); 2 bad usage or configuration.

import type { Argv, CommandModule } from 'yargs';
import { configFromArgs, EXIT_BAD_CONFIG, runCommand, type GlobalArgs } from './common.ts';
import { DatabaseUrlError, openStore, SchemaError } from '../core/store/open.ts';
import type { Store } from '../core/store/types.ts';
import { importMasakariCommand } from './import-masakari.ts';

const DAY_MS = 86_400_000;

/** Opens the configured store without migrating or insisting on the latest schema, runs `body`, always closes. */
async function withStore(args: GlobalArgs, body: (store: Store) => Promise<number | void>): Promise<number | void> {
  const config = configFromArgs(args);
  let store: Store;
  try {
    store = await openStore(config, { migrate: false, requireCurrentSchema: false });
  } catch (e) {
    return fail(e);
  }
  try {
    return await body(store);
  } catch (e) {
    return fail(e);
  } finally {
    await store.close();
  }
}

/** Known failures become one clear line instead of a stack trace. */
function fail(e: unknown): number {
  if (e instanceof DatabaseUrlError) {
    process.stderr.write(`masakari: ${e.message}\n`);
    return EXIT_BAD_CONFIG;
  }
  if (e instanceof SchemaError) {
    process.stderr.write(`masakari: ${e.message}\n`);
    return 1;
  }
  throw e;
}

const sync: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'sync',
  describe: 'apply pending schema migrations (safe to run again; prints what it applied)',
  handler: (args) =>
    runCommand(() =>
      withStore(args, async (store) => {
        const { applied } = await store.migrate();
        const v = await store.schemaVersion();
        for (const name of applied) process.stdout.write(`applied ${name}\n`);
        process.stdout.write(applied.length ? `database schema is now at version ${v.current}\n` : `database schema is up to date (version ${v.current})\n`);
      }),
    ),
};

const version: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'version',
  describe: 'print the schema version of the database',
  handler: (args) =>
    runCommand(() =>
      withStore(args, async (store) => {
        const v = await store.schemaVersion();
        process.stdout.write(`${v.current}\n`);
        if (v.current < v.latest) {
          process.stderr.write(`masakari: this masakari expects schema version ${v.latest}: run \`masakari db sync\`\n`);
        }
      }),
    ),
};

interface PurgeArgs extends GlobalArgs {
  'age-days': number;
  'max-rows': number;
}

const purge: CommandModule<GlobalArgs, PurgeArgs> = {
  command: 'purge',
  describe: 'delete soft-deleted segments/hosts and finished notifications older than --age-days',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('age-days', {
        alias: 'age_in_days',
        type: 'number',
        demandOption: true,
        describe: 'purge rows deleted or finished more than this many days ago (> 0)',
      })
      .option('max-rows', {
        alias: 'max_rows',
        type: 'number',
        default: -1,
        describe: 'at most this many rows per table (-1: no limit)',
      }),
  handler: (args) =>
    runCommand(async () => {
      const age = args['age-days'];
      const maxRows = args['max-rows'];
      if (!Number.isInteger(age) || age <= 0) {
        process.stderr.write(`masakari: --age-days must be a whole number of days greater than 0 (got ${String(age)})\n`);
        return EXIT_BAD_CONFIG;
      }
      if (!Number.isInteger(maxRows) || (maxRows < 1 && maxRows !== -1)) {
        process.stderr.write(`masakari: --max-rows must be a positive whole number or -1 for no limit (got ${String(maxRows)})\n`);
        return EXIT_BAD_CONFIG;
      }
      return withStore(args, async (store) => {
        const v = await store.schemaVersion();
        if (v.current < v.latest) {
          process.stderr.write(`masakari: the database schema is at version ${v.current}, run \`masakari db sync\` first\n`);
          return 1;
        }
        const cutoff = new Date(Date.now() - age * DAY_MS);
        const counts = await store.purge(cutoff, maxRows);
        for (const [table, n] of Object.entries(counts)) process.stdout.write(`${table}: ${n} rows purged\n`);
      });
    }),
};

export const dbCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'db <command>',
  describe: 'database chores: sync (apply migrations), version, purge, import-masakari',
  builder: (y) =>
    y
      .command(sync)
      .command(version)
      .command(purge as CommandModule<GlobalArgs, never>)
      .command(importMasakariCommand as CommandModule<GlobalArgs, never>)
      .demandCommand(1),
  handler: () => {},
};
