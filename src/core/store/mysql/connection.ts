// The connection pool and the two ways the repositories talk to it: single statements (autocommit) and
// transactions. This is the only file that knows mysql2.
//
// Session settings, applied to every new pooled connection before its first query:
// - READ COMMITTED. Every statement sees the latest committed rows. The store's atomic steps either are one
//   statement (claims: UPDATE … WHERE, which InnoDB always evaluates against the latest version under the row lock)
//   or lock a row first and then read (intake, task numbering): after the lock, READ COMMITTED reads what the
//   previous lock holder committed, where REPEATABLE READ could read an older snapshot. It also takes no gap locks,
//   so fewer deadlocks between controllers. (MySQL's default is REPEATABLE READ, Masakari/oslo.db keep that; we
//   need neither its snapshots nor its gap locks.)
// - Strict sql_mode: a value that does not fit is an error, never silently truncated.
// - innodb_lock_wait_timeout from database.busy_timeout_ms: how long to wait for another controller's row lock.
// - time_zone UTC; we store BIGINT microseconds, so this only matters to people reading the tables with NOW().
//
// Deadlocks (ER_LOCK_DEADLOCK) are a normal InnoDB outcome when controllers race; InnoDB has already rolled the
// victim back, so the whole transaction (or statement) is simply run again, a few times, with jitter.

import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import type { MysqlTarget } from './url.ts';

export interface RunResult {
  /** Rows matched by an UPDATE (mysql2 sets CLIENT_FOUND_ROWS), inserted or deleted. */
  affectedRows: number;
  insertId: number;
}

/** What a repository needs: the same two calls on the pool (autocommit) or inside a transaction. */
export interface Executor {
  /** R: the row the SQL reads (a table's RowOf from schema.ts, or the few columns it selects), as the caller knows. */
  rows<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  run(sql: string, params?: unknown[]): Promise<RunResult>;
}

export interface Db extends Executor {
  /** Runs `body` in one transaction; retried from the start after a deadlock. */
  tx<T>(body: (c: Executor) => Promise<T>): Promise<T>;
  /** A dedicated connection for session-scoped work (the migrator's named lock). */
  withConnection<T>(body: (c: Executor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Connections per controller (default 10). */
  connectionLimit?: number;
  /** innodb_lock_wait_timeout, rounded up to whole seconds (default 5000 ms). */
  lockWaitTimeoutMs?: number;
  /** TCP connect timeout (default 10000 ms). */
  connectTimeoutMs?: number;
}

const SQL_MODE = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';
const DEADLOCK_RETRIES = 8;

const ER_DUP_ENTRY = 'ER_DUP_ENTRY';
const ER_LOCK_DEADLOCK = 'ER_LOCK_DEADLOCK';

/** True for a UNIQUE/PRIMARY KEY violation on the named index (MariaDB says 'idx', MySQL 8 'table.idx'). */
export function isDuplicateKey(e: unknown, indexName: string): boolean {
  const err = e as { code?: string; sqlMessage?: string };
  return err?.code === ER_DUP_ENTRY && typeof err.sqlMessage === 'string' && new RegExp(`[.']${indexName}'`).test(err.sqlMessage);
}

const isDeadlock = (e: unknown) => (e as { code?: string })?.code === ER_LOCK_DEADLOCK;
const jitter = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));

function executor(q: Pool | PoolConnection): Executor {
  return {
    rows: async <R>(sql: string, params: unknown[] = []) => (await q.query<RowDataPacket[]>(sql, params))[0] as R[],
    run: async (sql, params = []) => {
      const [h] = await q.query<ResultSetHeader>(sql, params);
      return { affectedRows: h.affectedRows, insertId: h.insertId };
    },
  };
}

async function retryDeadlocks<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isDeadlock(e) || attempt >= DEADLOCK_RETRIES) throw e;
      await jitter(attempt);
    }
  }
}

export function openPool(target: MysqlTarget, opts: PoolOptions = {}): Db {
  const lockWaitS = Math.max(1, Math.ceil((opts.lockWaitTimeoutMs ?? 5000) / 1000));
  const pool = mysql.createPool({
    host: target.host,
    port: target.port,
    ...(target.socketPath ? { socketPath: target.socketPath } : {}),
    user: target.user,
    password: target.password,
    database: target.database,
    charset: 'utf8mb4',
    connectionLimit: opts.connectionLimit ?? 10,
    maxIdle: Math.min(opts.connectionLimit ?? 10, 4),
    idleTimeout: 60_000,
    waitForConnections: true,
    queueLimit: 0,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    enableKeepAlive: true,
    // BIGINT microseconds fit in a double exactly (< 2^53); beyond that mysql2 would give a string.
    supportBigNumbers: true,
    bigNumberStrings: false,
    multipleStatements: false,
  });
  // Runs on each new physical connection; mysql2 queues commands per connection, so these precede its first query.
  pool.pool.on('connection', (c) => {
    const fail = (err: Error | null) => {
      if (err) c.destroy(); // the waiting query then fails with a connection error instead of running unconfigured
    };
    c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', fail);
    c.query(`SET SESSION sql_mode = ?, innodb_lock_wait_timeout = ?, time_zone = '+00:00'`, [SQL_MODE, lockWaitS], fail);
  });

  const onPool = executor(pool);
  return {
    rows: <R>(sql: string, params?: unknown[]) => retryDeadlocks(() => onPool.rows<R>(sql, params)),
    run: (sql, params) => retryDeadlocks(() => onPool.run(sql, params)),
    tx: (body) =>
      retryDeadlocks(async () => {
        const c = await pool.getConnection();
        let healthy = true;
        try {
          await c.query('START TRANSACTION');
          const result = await body(executor(c));
          await c.query('COMMIT');
          return result;
        } catch (e) {
          await c.query('ROLLBACK').catch(() => (healthy = false));
          throw e;
        } finally {
          if (healthy) c.release();
          else c.destroy();
        }
      }),
    withConnection: async (body) => {
      const c = await pool.getConnection();
      try {
        return await body(executor(c));
      } finally {
        c.release();
      }
    },
    close: () => pool.end(),
  };
}
