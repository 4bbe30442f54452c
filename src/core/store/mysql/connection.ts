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
// Several nodes (Galera, docs/ha.md "Galera"): database.url may name several hosts. The store works through one node
// at a time (one mysql2 pool) and moves to the next when the node cannot serve: connection refused or lost, server
// shutting down, or a Galera node that is not part of the Primary component (ER_UNKNOWN_COM_ERROR 1047 "WSREP has
// not yet prepared node for application use": it lost quorum, or is still joining). A new connection to a Galera
// node is checked (wsrep_ready) before its first query and gets wsrep_sync_wait, so its reads wait until every
// transaction committed anywhere in the cluster before they started is applied here: a claim, a duplicate check or
// a read-back never decides on a stale row.
//
// What is retried, and when (the rest is thrown):
// - ER_LOCK_DEADLOCK 1213: an InnoDB deadlock, or Galera's certification conflict at commit (two nodes wrote the
//   same row; the later one is rolled back). The transaction was rolled back entirely, so the whole transaction is run
//   again from the start, up to `retryAttempts` times in all, after a random pause growing with the attempt.
// - The node could not serve (see above) before COMMIT: nothing was committed (a transaction dies with its
//   connection); run again on the next node, until `failoverTimeoutMs` has passed.
// - The node failed DURING a COMMIT (or an autocommit write): the outcome is unknown. Run again only when the caller
//   said the operation is idempotent (its body receives `retry: true` and recognises its own earlier commit, e.g. by
//   the uuid it inserted); otherwise DatabaseUnavailableError says so and nothing is repeated.

import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { AppError, errorMessage } from '../../errors.ts';
import type { MysqlEndpoint, MysqlTarget } from './url.ts';

/** No node of database.url could run the operation (or a commit's outcome is unknown); the message says which and why. */
export class DatabaseUnavailableError extends AppError {
  readonly code = 'DATABASE_UNAVAILABLE';
}

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

export interface WriteOptions {
  /**
   * Safe to run again when an earlier attempt's COMMIT may have happened (its node failed during it). A transaction
   * body is then called with `retry: true` and must recognise its own earlier commit.
   */
  idempotent?: boolean;
}

export interface TxInfo {
  /** An earlier attempt of this transaction may have committed (its node failed during COMMIT). */
  retry: boolean;
}

export interface Db extends Executor {
  run(sql: string, params?: unknown[], opts?: WriteOptions): Promise<RunResult>;
  /** Runs `body` in one transaction; retried from the start after a deadlock or a certification conflict. */
  tx<T>(body: (c: Executor, info: TxInfo) => Promise<T>, opts?: WriteOptions): Promise<T>;
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
  /** Runs in all of a transaction that lost a deadlock or a certification conflict (default 8). */
  retryAttempts?: number;
  /** How long an operation keeps trying the nodes in turn while none can serve (default 15000 ms). */
  failoverTimeoutMs?: number;
  /** wsrep_sync_wait set on every connection to a Galera node (default 1: reads and transaction starts wait). */
  wsrepSyncWait?: number;
  /** Told when the store leaves a node (for the log). */
  onFailover?: (event: { from: string; to: string; reason: string }) => void;
}

const SQL_MODE = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

const ER_DUP_ENTRY = 'ER_DUP_ENTRY';
const ER_LOCK_DEADLOCK = 1213;
/**
 * ER_LOCK_WAIT_TIMEOUT: a row lock not granted in time, or on Galera a causal read (wsrep_sync_wait) that timed out
 * waiting for the node to apply the cluster's writes (a node that just rejoined). The statement did nothing: run it
 * (its transaction) again, as after a deadlock.
 */
const ER_LOCK_WAIT_TIMEOUT = 1205;
/** ER_UNKNOWN_COM_ERROR: what a Galera node outside the Primary component answers to every query. */
export const ER_WSREP_NOT_READY = 1047;
/** The server is going down, killed our connection, or has no room for it: another node may serve. */
const NODE_ERRNOS = new Set([ER_WSREP_NOT_READY, 1053 /* ER_SERVER_SHUTDOWN */, 1927 /* ER_CONNECTION_KILLED */, 1040 /* ER_CON_COUNT_ERROR */]);
const NODE_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** ER_ERROR_DURING_COMMIT: the storage engine or wsrep failed the COMMIT; whether it replicated is not known. */
const ER_ERROR_DURING_COMMIT = 1180;

/** True for a UNIQUE/PRIMARY KEY violation on the named index (MariaDB says 'idx', MySQL 8 'table.idx'). */
export function isDuplicateKey(e: unknown, indexName: string): boolean {
  const err = e as { code?: string; sqlMessage?: string };
  return err?.code === ER_DUP_ENTRY && typeof err.sqlMessage === 'string' && new RegExp(`[.']${indexName}'`).test(err.sqlMessage);
}

type Failure = 'conflict' | 'node' | 'other';

/** conflict: rolled back, run it again; node: this node cannot serve, try the next; other: the caller's problem. */
export function classify(e: unknown): Failure {
  const err = e as { code?: string; errno?: number; message?: string };
  if (err?.errno === ER_LOCK_DEADLOCK || err?.errno === ER_LOCK_WAIT_TIMEOUT) return 'conflict';
  if (err?.errno !== undefined && NODE_ERRNOS.has(err.errno)) return 'node';
  if (err?.errno === ER_ERROR_DURING_COMMIT) return 'node';
  if (err?.code && NODE_CODES.has(err.code)) return 'node';
  // mysql2, for a command on a connection that already died.
  if (typeof err?.message === 'string' && /closed state|connection is closed/i.test(err.message)) return 'node';
  return 'other';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Random pause before attempt `attempt + 1`: spreads the controllers that collided. */
const jitter = (attempt: number) => sleep(Math.random() * 5 * 2 ** Math.min(attempt, 6));

function executor(q: Pool | PoolConnection): Executor {
  return {
    rows: async <R>(sql: string, params: unknown[] = []) => (await q.query<RowDataPacket[]>(sql, params))[0] as R[],
    run: async (sql, params = []) => {
      const [h] = await q.query<ResultSetHeader>(sql, params);
      return { affectedRows: h.affectedRows, insertId: h.insertId };
    },
  };
}

const endpointText = (e: MysqlEndpoint, target: MysqlTarget) => target.socketPath ?? `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;

/** A node-level error made for a connection that reached a Galera node outside the Primary component. */
function notReady(detail: string): Error {
  return Object.assign(new Error(`WSREP has not yet prepared node for application use (${detail})`), {
    errno: ER_WSREP_NOT_READY,
    code: 'ER_UNKNOWN_COM_ERROR',
  });
}

/**
 * The nodes of database.url and the pool of the one in use. A failure reported for a node that is no longer the
 * current one changes nothing (many operations fail at once when a node dies; the first moves on, the others retry).
 */
class Nodes {
  private index = 0;
  private pool: Pool | null = null;
  private readonly retired: Pool[] = [];
  private readonly ready = new WeakSet<object>();

  constructor(
    private readonly target: MysqlTarget,
    private readonly opts: PoolOptions,
  ) {}

  get current(): number {
    return this.index;
  }

  describe(i: number): string {
    return endpointText(this.target.endpoints[i]!, this.target);
  }

  private open(): Pool {
    const e = this.target.endpoints[this.index]!;
    const limit = this.opts.connectionLimit ?? 10;
    return mysql.createPool({
      host: e.host,
      port: e.port,
      ...(this.target.socketPath ? { socketPath: this.target.socketPath } : {}),
      user: this.target.user,
      password: this.target.password,
      database: this.target.database,
      charset: 'utf8mb4',
      connectionLimit: limit,
      maxIdle: Math.min(limit, 4),
      idleTimeout: 60_000,
      waitForConnections: true,
      queueLimit: 0,
      connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      enableKeepAlive: true,
      // BIGINT microseconds fit in a double exactly (< 2^53); beyond that mysql2 would give a string.
      supportBigNumbers: true,
      bigNumberStrings: false,
      multipleStatements: false,
    });
  }

  /** A connection to the current node, set up and (on Galera) checked to be ready, with that node's index. */
  async acquire(): Promise<{ conn: PoolConnection; node: number }> {
    let node = this.index;
    let pool = (this.pool ??= this.open());
    let conn: PoolConnection;
    for (let tries = 1; ; tries++) {
      try {
        conn = await pool.getConnection();
        break;
      } catch (e) {
        // Another operation's node failure retired this pool while we waited for one of its connections (mysql2:
        // "Pool is closed."): nothing ran yet, so take one from the current pool (a fresh one after a reconnect).
        if (pool === this.pool || !/^Pool is closed/.test(errorMessage(e)) || tries >= 5) throw e;
        node = this.index;
        pool = this.pool ??= this.open();
      }
    }
    if (!this.ready.has(conn.connection)) {
      try {
        await this.setUp(conn);
      } catch (e) {
        conn.destroy();
        throw e;
      }
      this.ready.add(conn.connection);
    }
    return { conn, node };
  }

  private async setUp(c: PoolConnection): Promise<void> {
    const lockWaitS = Math.max(1, Math.ceil((this.opts.lockWaitTimeoutMs ?? 5000) / 1000));
    await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await c.query(`SET SESSION sql_mode = ?, innodb_lock_wait_timeout = ?, time_zone = '+00:00'`, [SQL_MODE, lockWaitS]);
    // Galera or not: MariaDB always has wsrep_on (OFF without a provider), MySQL has no such variable.
    const [wsrep] = await c.query<RowDataPacket[]>(`SHOW VARIABLES LIKE 'wsrep_on'`);
    if (String(wsrep[0]?.Value ?? 'OFF').toUpperCase() !== 'ON') return;
    const [st] = await c.query<RowDataPacket[]>(`SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_status')`);
    const status = Object.fromEntries(st.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
    if (status.wsrep_ready !== 'ON' || status.wsrep_cluster_status !== 'Primary') {
      throw notReady(`wsrep_cluster_status ${status.wsrep_cluster_status ?? '?'}, wsrep_ready ${status.wsrep_ready ?? '?'}`);
    }
    await c.query('SET SESSION wsrep_sync_wait = ?', [this.opts.wsrepSyncWait ?? 1]);
  }

  /** Node `node` could not serve: move to the next one (once per failure of the current node). */
  failed(node: number, reason: unknown): void {
    if (node !== this.index || this.target.endpoints.length < 2) {
      if (this.target.endpoints.length < 2 && this.pool) this.retire(); // one node: reconnect from scratch next time
      return;
    }
    const from = this.describe(node);
    this.index = (this.index + 1) % this.target.endpoints.length;
    this.retire();
    this.opts.onFailover?.({ from, to: this.describe(this.index), reason: errorMessage(reason) });
  }

  private retire(): void {
    const old = this.pool;
    this.pool = null;
    if (!old) return;
    this.retired.push(old);
    // Connections still in use finish their statement (mysql2 quits after the queued commands); idle ones close now.
    void old.end().catch(() => {});
  }

  async close(): Promise<void> {
    const pools = [...this.retired, ...(this.pool ? [this.pool] : [])];
    this.pool = null;
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
  }
}

export function openPool(target: MysqlTarget, opts: PoolOptions = {}): Db {
  const nodes = new Nodes(target, opts);
  const maxAttempts = Math.max(1, opts.retryAttempts ?? 8);
  // With one host there is nothing to fail over to: an operation fails at once (after one reconnect, for a pooled
  // connection that died), as it always did; the engine's own retries and leases take over from there.
  const failoverMs = target.endpoints.length > 1 ? (opts.failoverTimeoutMs ?? 15_000) : 0;

  const unavailable = (what: string, e: unknown, node: number) =>
    new DatabaseUnavailableError(`MySQL/MariaDB ${target.display}: ${what} (last node tried: ${nodes.describe(node)}: ${errorMessage(e)})`, { cause: e });

  /**
   * The one retry loop. `attempt(info)` runs once on a fresh connection; `phase` tells where a node failure hit:
   * before anything could have been committed, or during the commit (outcome unknown).
   */
  async function withRetries<T>(
    kind: 'read' | 'write' | 'tx',
    attemptOnce: (conn: PoolConnection, info: TxInfo, mark: (p: 'safe' | 'commit') => void) => Promise<T>,
    writeOpts: WriteOptions,
  ): Promise<T> {
    const deadline = Date.now() + failoverMs;
    let retry = false;
    let nodeFailures = 0;
    for (let attempt = 1; ; attempt++) {
      const at: { phase: 'safe' | 'commit' } = { phase: 'safe' };
      let node = nodes.current;
      try {
        const got = await nodes.acquire();
        node = got.node;
        let healthy = true;
        try {
          return await attemptOnce(got.conn, { retry }, (p) => (at.phase = p));
        } catch (e) {
          if (kind === 'tx') await got.conn.query('ROLLBACK').catch(() => (healthy = false));
          if (classify(e) === 'node') healthy = false;
          throw e;
        } finally {
          if (healthy) got.conn.release();
          else got.conn.destroy();
        }
      } catch (e) {
        const failure = classify(e);
        if (failure === 'conflict') {
          // Rolled back every time: the database is too busy to serve it now (the API answers 503, never 500).
          if (attempt >= maxAttempts) throw unavailable(`still in conflict after ${attempt} runs (each rolled back)`, e, node);
          await jitter(attempt);
          continue;
        }
        if (failure !== 'node') throw e;
        nodes.failed(node, e);
        if (at.phase === 'commit') {
          if (!writeOpts.idempotent) {
            throw unavailable(
              `the node failed while committing; whether the ${kind === 'tx' ? 'transaction' : 'statement'} took effect is unknown, so it is not repeated`,
              e,
              node,
            );
          }
          retry = true;
        }
        nodeFailures++;
        if (Date.now() >= deadline && nodeFailures > target.endpoints.length) throw unavailable(`no node could serve for ${failoverMs} ms`, e, node);
        // Every node tried once: pause before the next round (a Galera view change takes a few seconds).
        if (nodeFailures % target.endpoints.length === 0) await sleep(Math.min(1000, 100 * nodeFailures));
      }
    }
  }

  return {
    rows: <R>(sql: string, params: unknown[] = []) => withRetries('read', async (conn) => (await conn.query<RowDataPacket[]>(sql, params))[0] as R[], {}),
    run: (sql, params = [], writeOpts = {}) =>
      withRetries(
        'write',
        async (conn, _info, mark) => {
          mark('commit'); // autocommit: the statement is its own commit
          const [h] = await conn.query<ResultSetHeader>(sql, params);
          return { affectedRows: h.affectedRows, insertId: h.insertId };
        },
        writeOpts,
      ),
    tx: (body, writeOpts = {}) =>
      withRetries(
        'tx',
        async (conn, info, mark) => {
          await conn.query('START TRANSACTION');
          const result = await body(executor(conn), info);
          mark('commit');
          await conn.query('COMMIT');
          return result;
        },
        writeOpts,
      ),
    withConnection: async (body) => {
      const deadline = Date.now() + failoverMs;
      let conn: PoolConnection;
      for (;;) {
        const node = nodes.current;
        try {
          conn = (await nodes.acquire()).conn;
          break;
        } catch (e) {
          if (classify(e) !== 'node') throw e;
          nodes.failed(node, e);
          if (Date.now() >= deadline) throw unavailable(`no node could serve for ${failoverMs} ms`, e, node);
          await sleep(200);
        }
      }
      try {
        return await body(executor(conn));
      } finally {
        conn.release();
      }
    },
    close: () => nodes.close(),
  };
}
