// The SQLite store: better-sqlite3 (synchronous, in-process) behind the async Store interface. Each concern lives in
// its own module; this file wires them to one connection.

import { randomUUID } from 'node:crypto';
import { microsOf } from '../../domain/time.ts';
import type { Store } from '../types.ts';
import { openConnection } from './connection.ts';
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
import { vmoveRepo } from './vmoves.ts';

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

  // The repositories are the store: each runs its writes through the connection's group commit (one fsync per loop
  // turn for all of them: the API's intake and the engine's bookkeeping alike), which settles only after COMMIT.
  return {
    dialect: 'sqlite',
    changeStamp: () => (conn.db.open ? conn.changeStamp() : null),
    ...segmentRepo(conn, uuid),
    ...hostRepo(conn, uuid),
    ...intakeRepo(conn),
    ...notificationRepo(conn),
    ...engineRepo(conn),
    ...vmoveRepo(conn, uuid),
    ...purgeRepo(conn),
    ...eventRepo(conn),
    ...importRepo(conn),
    ...heartbeatRepo(conn),
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
