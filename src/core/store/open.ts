// Opens the store the configuration names (database.url):
//   sqlite:PATH      a file; a relative PATH is under data_dir (created when missing)
//   sqlite::memory:  an in-memory database (tests, the simulator; gone when the process ends)
//   mysql://user:pass@host:port/db   MySQL/MariaDB (also mysql+pymysql://, as masakari.conf writes it; see
//                    src/core/store/mysql/url.ts)

import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import { AppError, errorMessage } from '../errors.ts';
import type { Store } from './types.ts';
import type { Logger } from '../log.ts';
import { maskUrlCredentials } from '../mask.ts';
import { SchemaError } from './errors.ts';
import { openSqliteStore } from './sqlite/index.ts';
import { MysqlConnectError, MysqlUrlError, openMysqlStore, parseMysqlUrl } from './mysql/index.ts';

export { SchemaError };

/** database.url is malformed, or the database it names cannot be created, opened or reached (a configuration error). */
export class DatabaseUrlError extends AppError {
  readonly code = 'DATABASE_URL_INVALID';
}

export interface OpenStoreOptions {
  /** Apply pending migrations (default: database.auto_migrate). */
  migrate?: boolean;
  /** Refuse a database whose schema is behind this code (default true; `masakari db` turns it off). */
  requireCurrentSchema?: boolean;
  uuid?: () => string;
  /** Where the MySQL store says that it left a node of database.url for the next one. */
  log?: Pick<Logger, 'warn'>;
}

export type DatabaseTarget = { dialect: 'sqlite'; path: string } | { dialect: 'mysql'; url: string };

/** Parses database.url; relative SQLite paths are resolved under dataDir. */
export function parseDatabaseUrl(url: string, dataDir: string): DatabaseTarget {
  if (url === 'sqlite::memory:' || url === 'sqlite://:memory:') return { dialect: 'sqlite', path: ':memory:' };
  if (url.startsWith('sqlite:')) {
    // sqlite:PATH (ours), and SQLAlchemy's spellings as in masakari.conf: sqlite:///relative and sqlite:////absolute.
    let p = url.slice('sqlite:'.length);
    if (p.startsWith('//')) {
      p = p.slice(2);
      if (p.startsWith('/')) p = p.slice(1);
    }
    if (p === '') throw new DatabaseUrlError(`database.url "${url}" has no file path (e.g. sqlite:masakari.sqlite)`);
    return { dialect: 'sqlite', path: isAbsolute(p) ? p : resolve(dataDir, p) };
  }
  if (/^(mysql|mariadb)(\+[a-z0-9_]+)?:\/\//i.test(url)) {
    try {
      parseMysqlUrl(url); // reject a malformed URL here, with the config error, not at first use
    } catch (e) {
      if (e instanceof MysqlUrlError) throw new DatabaseUrlError(`database.url: ${e.message}`);
      throw e;
    }
    return { dialect: 'mysql', url };
  }
  throw new DatabaseUrlError(`database.url "${maskUrlCredentials(url)}" is not supported: use sqlite:PATH, sqlite::memory: or mysql://user:pass@host/db`);
}

export async function openStore(config: Config, opts: OpenStoreOptions = {}): Promise<Store> {
  const target = parseDatabaseUrl(config.database.url, config.data_dir);
  if (target.dialect === 'mysql') return openMysql(target.url, config, opts);
  if (target.path !== ':memory:') {
    try {
      mkdirSync(dirname(target.path), { recursive: true });
    } catch (e) {
      throw new DatabaseUrlError(`cannot create the directory for ${target.path}: ${errorMessage(e)}`);
    }
  }
  // An in-memory database starts empty: nothing but migrating makes sense.
  const migrate = target.path === ':memory:' ? true : (opts.migrate ?? config.database.auto_migrate);
  let store: Store;
  try {
    store = openSqliteStore({
      path: target.path,
      busyTimeoutMs: config.database.busy_timeout_ms,
      migrate,
      ...(opts.uuid ? { uuid: opts.uuid } : {}),
    });
  } catch (e) {
    if (e instanceof SchemaError) throw e;
    throw new DatabaseUrlError(`cannot open the SQLite database ${target.path}: ${errorMessage(e)}`);
  }
  return (opts.requireCurrentSchema ?? true) ? requireCurrentSchema(store, `the database ${target.path}`) : store;
}

async function openMysql(url: string, config: Config, opts: OpenStoreOptions): Promise<Store> {
  let store: Store;
  try {
    store = await openMysqlStore({
      url,
      migrate: opts.migrate ?? config.database.auto_migrate,
      lockWaitTimeoutMs: config.database.busy_timeout_ms,
      retryAttempts: config.database.retry_attempts,
      failoverTimeoutMs: config.database.failover_timeout_ms,
      wsrepSyncWait: config.database.wsrep_sync_wait,
      ...(opts.log
        ? {
            onFailover: ({ from, to, reason }: { from: string; to: string; reason: string }) =>
              opts.log!.warn({ from, to, reason }, `database node ${from} cannot serve (${reason}); switching to ${to}`),
          }
        : {}),
      ...(opts.uuid ? { uuid: opts.uuid } : {}),
    });
  } catch (e) {
    if (e instanceof SchemaError) throw e;
    // Unreachable server, wrong password, missing database: a configuration problem, said in one line.
    if (e instanceof MysqlConnectError || e instanceof MysqlUrlError) throw new DatabaseUrlError(e.message);
    throw e;
  }
  return (opts.requireCurrentSchema ?? true) ? requireCurrentSchema(store, `the MySQL database ${parseMysqlUrl(url).display}`) : store;
}

/** The store, or (closed) SchemaError when its schema is behind this code; `what` names the database for people. */
async function requireCurrentSchema(store: Store, what: string): Promise<Store> {
  const v = await store.schemaVersion().catch(async (e) => {
    await store.close();
    throw e;
  });
  if (v.current < v.latest) {
    await store.close();
    throw new SchemaError(
      `${what} is at schema version ${v.current}, this masakari needs ${v.latest}: run \`masakari db sync\` (or set database.auto_migrate: true)`,
    );
  }
  return store;
}
