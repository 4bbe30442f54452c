// The MySQL/MariaDB store: a mysql2 connection pool behind the Store interface, for several controllers sharing one
// database (HA). Each concern lives in its own module, like the SQLite store; the dialect-neutral parts (row <->
// record, list SQL and sort keys, patches, domain errors, migration checks) are ../sql/, shared with SQLite.

import { randomUUID } from 'node:crypto';
import { AppError, errorMessage } from '../../errors.ts';
import { microsOf } from '../../domain/time.ts';
import type { Store } from '../types.ts';
import { openPool, type Db, type PoolOptions } from './connection.ts';
import { engineRepo } from './engine.ts';
import { eventRepo } from './events.ts';
import { heartbeatRepo } from './heartbeats.ts';
import { hostRepo } from './hosts.ts';
import { importRepo } from './import.ts';
import { migrate, schemaVersion } from './migrate.ts';
import { backfillPayloadKeys, intakeRepo } from './intake.ts';
import { notificationRepo } from './notifications.ts';
import { purgeRepo } from './purge.ts';
import { segmentRepo } from './segments.ts';
import { parseMysqlUrl, type MysqlTarget } from './url.ts';
import { vmoveRepo } from './vmoves.ts';

export { MysqlUrlError, parseMysqlUrl, isMysqlUrl } from './url.ts';
export { DatabaseUnavailableError } from './connection.ts';

export interface MysqlStoreOptions {
  /** mysql://user:pass@host:port/db (also mysql+pymysql://, mariadb://; ?unix_socket=PATH). */
  url: string;
  /** Apply pending migrations while opening (default true). */
  migrate?: boolean;
  /** Pool size per store (default 10). */
  connectionLimit?: number;
  /** How long to wait for another controller's row lock (innodb_lock_wait_timeout, whole seconds; default 5000). */
  lockWaitTimeoutMs?: number;
  /** Runs of a transaction after deadlocks / certification conflicts (default 8). */
  retryAttempts?: number;
  /** How long to keep trying the nodes in turn while none can serve (default 15000). */
  failoverTimeoutMs?: number;
  /** wsrep_sync_wait on Galera nodes (default 1). */
  wsrepSyncWait?: number;
  /** Told when the store leaves a node for the next one of database.url. */
  onFailover?: PoolOptions['onFailover'];
  uuid?: () => string;
  now?: () => Date;
}

/** The server could not be reached or refused us; the message names host/db, never the password. */
export class MysqlConnectError extends AppError {
  readonly code = 'MYSQL_CONNECT';
  constructor(target: MysqlTarget, cause: unknown) {
    super(`cannot connect to MySQL/MariaDB at ${target.display} as ${target.user}: ${errorMessage(cause)}`);
  }
}

export async function openMysqlStore(opts: MysqlStoreOptions): Promise<Store> {
  const target = parseMysqlUrl(opts.url);
  const db: Db = openPool(target, {
    ...(opts.connectionLimit !== undefined ? { connectionLimit: opts.connectionLimit } : {}),
    ...(opts.lockWaitTimeoutMs !== undefined ? { lockWaitTimeoutMs: opts.lockWaitTimeoutMs } : {}),
    ...(opts.retryAttempts !== undefined ? { retryAttempts: opts.retryAttempts } : {}),
    ...(opts.failoverTimeoutMs !== undefined ? { failoverTimeoutMs: opts.failoverTimeoutMs } : {}),
    ...(opts.wsrepSyncWait !== undefined ? { wsrepSyncWait: opts.wsrepSyncWait } : {}),
    ...(opts.onFailover ? { onFailover: opts.onFailover } : {}),
  });
  const now = opts.now ?? (() => new Date());
  const uuid = opts.uuid ?? randomUUID;
  try {
    try {
      await db.rows('SELECT 1');
    } catch (e) {
      throw new MysqlConnectError(target, e);
    }
    if (opts.migrate ?? true) await migrate(db, microsOf(now()));
    await backfillPayloadKeys(db);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }

  let closed: Promise<void> | undefined;

  // The repositories are the store (each write is its own autocommit statement or transaction on the pool).
  return {
    dialect: 'mysql',
    ...segmentRepo(db, uuid),
    ...hostRepo(db, uuid),
    ...intakeRepo(db),
    ...notificationRepo(db),
    ...engineRepo(db),
    ...vmoveRepo(db, uuid),
    ...purgeRepo(db),
    ...eventRepo(db),
    ...importRepo(db),
    ...heartbeatRepo(db),
    schemaVersion: () => schemaVersion(db),
    migrate: async () => {
      const result = await migrate(db, microsOf(now()));
      await backfillPayloadKeys(db);
      return result;
    },
    close: () => (closed ??= db.close()),
  };
}
