// The MySQL/MariaDB store: a mysql2 connection pool behind the Store interface, for several controllers sharing one
// database (HA). Each concern lives in its own module, like the SQLite store; the dialect-neutral parts (row <->
// record, list SQL and sort keys, error messages) are SQLite's own modules, shared.

import { randomUUID } from 'node:crypto';
import { microsOf } from '../../domain/time.ts';
import type { Store } from '../types.ts';
import { openPool, type Db } from './connection.ts';
import { engineRepo } from './engine.ts';
import { hostRepo } from './hosts.ts';
import { migrate, schemaVersion, SchemaError } from './migrate.ts';
import { backfillPayloadKeys, notificationRepo } from './notifications.ts';
import { purgeRepo } from './purge.ts';
import { segmentRepo } from './segments.ts';
import { parseMysqlUrl, type MysqlTarget } from './url.ts';
import { vmoveRepo } from './vmoves.ts';

export { SchemaError };
export { MysqlUrlError, parseMysqlUrl, isMysqlUrl } from './url.ts';

export interface MysqlStoreOptions {
  /** mysql://user:pass@host:port/db (also mysql+pymysql://, mariadb://; ?unix_socket=PATH). */
  url: string;
  /** Apply pending migrations while opening (default true). */
  migrate?: boolean;
  /** Pool size per store (default 10). */
  connectionLimit?: number;
  /** How long to wait for another controller's row lock (innodb_lock_wait_timeout, whole seconds; default 5000). */
  lockWaitTimeoutMs?: number;
  uuid?: () => string;
  now?: () => Date;
}

/** The server could not be reached or refused us; the message names host/db, never the password. */
export class MysqlConnectError extends Error {
  constructor(target: MysqlTarget, cause: unknown) {
    super(`cannot connect to MySQL/MariaDB at ${target.display} as ${target.user}: ${(cause as Error).message}`);
    this.name = 'MysqlConnectError';
  }
}

export async function openMysqlStore(opts: MysqlStoreOptions): Promise<Store> {
  const target = parseMysqlUrl(opts.url);
  const db: Db = openPool(target, {
    ...(opts.connectionLimit !== undefined ? { connectionLimit: opts.connectionLimit } : {}),
    ...(opts.lockWaitTimeoutMs !== undefined ? { lockWaitTimeoutMs: opts.lockWaitTimeoutMs } : {}),
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

  const segments = segmentRepo(db, uuid);
  const hosts = hostRepo(db, uuid);
  const notifications = notificationRepo(db);
  const engine = engineRepo(db);
  const vmoves = vmoveRepo(db, uuid);
  const maintenance = purgeRepo(db);
  let closed: Promise<void> | undefined;

  return {
    dialect: 'mysql',
    listSegments: (q) => segments.listSegments(q),
    getSegment: (id) => segments.getSegment(id),
    createSegment: (input, t) => segments.createSegment(input, t),
    updateSegment: (id, patch, t) => segments.updateSegment(id, patch, t),
    deleteSegment: (id, t) => segments.deleteSegment(id, t),
    segmentInUse: (id) => segments.segmentInUse(id),

    listHosts: (q) => hosts.listHosts(q),
    getHost: (id) => hosts.getHost(id),
    getHostByName: (name) => hosts.getHostByName(name),
    listHostsOfSegment: (id) => hosts.listHostsOfSegment(id),
    createHost: (seg, input, t) => hosts.createHost(seg, input, t),
    updateHost: (id, patch, t) => hosts.updateHost(id, patch, t),
    deleteHost: (id, t) => hosts.deleteHost(id, t),
    hostInUse: (id) => hosts.hostInUse(id),

    listNotifications: (q) => notifications.listNotifications(q),
    getNotification: (id) => notifications.getNotification(id),
    createNotification: (input, windowMs, t) => notifications.createNotification(input, windowMs, t),
    setNotificationStatus: (id, status, t, lastError) => notifications.setNotificationStatus(id, status, t, lastError),
    finishNotification: (id, status, t, lastError, release) => notifications.finishNotification(id, status, t, lastError, release),
    settleNewNotification: (id, status, t, lastError) => notifications.settleNewNotification(id, status, t, lastError),
    claimNotification: (id, owner, leaseMs, t, count) => notifications.claimNotification(id, owner, leaseMs, t, count),
    renewNotificationClaim: (id, owner, leaseMs, t) => notifications.renewNotificationClaim(id, owner, leaseMs, t),
    releaseNotificationClaim: (id, owner) => notifications.releaseNotificationClaim(id, owner),
    findNotificationsByStatus: (statuses, limit) => notifications.findNotificationsByStatus(statuses, limit),

    claimHostRecovery: (host, n, owner, leaseMs, t) => engine.claimHostRecovery(host, n, owner, leaseMs, t),
    releaseHostRecovery: (host, n) => engine.releaseHostRecovery(host, n),
    appendTask: (n, name, state, t) => engine.appendTask(n, name, state, t),
    updateTask: (n, seq, patch, t) => engine.updateTask(n, seq, patch, t),
    listTasks: (n) => engine.listTasks(n),

    createVMove: (input, t) => vmoves.createVMove(input, t),
    updateVMove: (id, patch, t) => vmoves.updateVMove(id, patch, t),
    getVMove: (n, id) => vmoves.getVMove(n, id),
    listVMoves: (q) => vmoves.listVMoves(q),

    purge: (olderThan, maxRows) => maintenance.purge(olderThan, maxRows),
    schemaVersion: () => schemaVersion(db),
    migrate: async () => {
      const result = await migrate(db, microsOf(now()));
      await backfillPayloadKeys(db);
      return result;
    },
    close: () => (closed ??= db.close()),
  };
}
