// The SQLite store: better-sqlite3 (synchronous, in-process) behind the async Store interface. Each concern lives in
// its own module; this file wires them to one connection.

import { randomUUID } from 'node:crypto';
import { microsOf } from '../../domain/time.ts';
import type { Store } from '../types.ts';
import { openConnection } from './connection.ts';
import { engineRepo } from './engine.ts';
import { hostRepo } from './hosts.ts';
import { migrate, schemaVersion } from './migrate.ts';
import { backfillPayloadKeys, notificationRepo } from './notifications.ts';
import { purgeRepo } from './purge.ts';
import { segmentRepo } from './segments.ts';
import { vmoveRepo } from './vmoves.ts';

export { SchemaError } from './migrate.ts';

export interface SqliteStoreOptions {
  /** File path or ':memory:'. */
  path: string;
  /** Wait this long for another connection's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Apply pending migrations while opening (default true). */
  migrate?: boolean;
  /** uuids for new segments, hosts and vmoves (default crypto.randomUUID; the simulator passes a seeded one). */
  uuid?: () => string;
  /** Clock for schema_migrations.applied_at (default the wall clock). */
  now?: () => Date;
}

export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const conn = openConnection(opts.path, opts.busyTimeoutMs ?? 5000);
  const now = opts.now ?? (() => new Date());
  const uuid = opts.uuid ?? randomUUID;
  try {
    if (opts.migrate ?? true) migrate(conn.db, microsOf(now()));
    backfillPayloadKeys(conn);
  } catch (e) {
    conn.close();
    throw e;
  }

  const segments = segmentRepo(conn, uuid);
  const hosts = hostRepo(conn, uuid);
  const notifications = notificationRepo(conn);
  const engine = engineRepo(conn);
  const vmoves = vmoveRepo(conn, uuid);
  const maintenance = purgeRepo(conn);

  // Every write goes through the connection's group commit (one fsync per loop turn for all of them: the API's
  // intake and the engine's bookkeeping alike); it settles only after COMMIT.
  const w = <T>(op: () => T): Promise<T> => conn.write(op);
  // Operations whose only change is one statement (see group-commit.ts run): no savepoint needed.
  const w1 = <T>(op: () => T): Promise<T> => conn.write(op, false);
  // better-sqlite3 is synchronous; `async` turns its throws into rejections, as the interface promises.
  return {
    dialect: 'sqlite',
    changeStamp: () => (conn.db.open ? conn.changeStamp() : null),
    listSegments: async (q) => segments.listSegments(q),
    getSegment: async (id) => segments.getSegment(id),
    createSegment: (input, t) => w(() => segments.createSegment(input, t)),
    updateSegment: (id, patch, t) => w(() => segments.updateSegment(id, patch, t)),
    deleteSegment: (id, t) => w(() => segments.deleteSegment(id, t)),
    segmentInUse: async (id) => segments.segmentInUse(id),

    listHosts: async (q) => hosts.listHosts(q),
    getHost: async (id) => hosts.getHost(id),
    getHostByName: async (name) => hosts.getHostByName(name),
    listHostsOfSegment: async (id) => hosts.listHostsOfSegment(id),
    createHost: (seg, input, t) => w(() => hosts.createHost(seg, input, t)),
    updateHost: (id, patch, t) => w(() => hosts.updateHost(id, patch, t)),
    deleteHost: (id, t) => w(() => hosts.deleteHost(id, t)),
    hostInUse: async (id) => hosts.hostInUse(id),

    listNotifications: async (q) => notifications.listNotifications(q),
    getNotification: async (id) => notifications.getNotification(id),
    createNotification: async (input, windowMs, t) => notifications.createNotification(input, windowMs, t),
    setNotificationStatus: (id, status, t, lastError) => w1(() => notifications.setNotificationStatus(id, status, t, lastError)),
    finishNotification: (id, status, t, lastError, release) => w(() => notifications.finishNotification(id, status, t, lastError, release)),
    settleNewNotification: (id, status, t, lastError) => w1(() => notifications.settleNewNotification(id, status, t, lastError)),
    claimNotification: (id, owner, leaseMs, t, count) => w1(() => notifications.claimNotification(id, owner, leaseMs, t, count)),
    renewNotificationClaim: (id, owner, leaseMs, t) => w1(() => notifications.renewNotificationClaim(id, owner, leaseMs, t)),
    releaseNotificationClaim: (id, owner) => w1(() => notifications.releaseNotificationClaim(id, owner)),
    findNotificationsByStatus: async (statuses, limit) => notifications.findNotificationsByStatus(statuses, limit),

    claimHostRecovery: (host, n, owner, leaseMs, t) => w1(() => engine.claimHostRecovery(host, n, owner, leaseMs, t)),
    releaseHostRecovery: (host, n) => w1(() => engine.releaseHostRecovery(host, n)),
    appendTask: (n, name, state, t) => w(() => engine.appendTask(n, name, state, t)),
    updateTask: (n, seq, patch, t) => w(() => engine.updateTask(n, seq, patch, t)),
    listTasks: async (n) => engine.listTasks(n),

    createVMove: (input, t) => w(() => vmoves.createVMove(input, t)),
    updateVMove: (id, patch, t) => w(() => vmoves.updateVMove(id, patch, t)),
    getVMove: async (n, id) => vmoves.getVMove(n, id),
    listVMoves: async (q) => vmoves.listVMoves(q),

    purge: async (olderThan, maxRows) => {
      try {
        return maintenance.purge(olderThan, maxRows);
      } finally {
        conn.noteWrite();
      }
    },
    schemaVersion: async () => schemaVersion(conn.db),
    migrate: async () => {
      try {
        const result = migrate(conn.db, microsOf(now()));
        backfillPayloadKeys(conn);
        return result;
      } finally {
        conn.noteWrite();
      }
    },
    close: async () => conn.close(),
  };
}
