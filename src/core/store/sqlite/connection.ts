// Opens the SQLite file with the settings the store relies on, and hands out prepared statements.
//
// Durability: journal_mode=WAL lets API reads run while the engine writes; synchronous=FULL makes every commit
// fsync the WAL, so a notification is on disk before the API answers 202 (NORMAL could lose the last commits on
// power loss). foreign_keys=ON because SQLite leaves it off by default. busy_timeout makes a second connection
// (another process, `masakari db purge`) wait for the write lock instead of failing with SQLITE_BUSY at once.

import Database from 'better-sqlite3';
import { groupCommitter } from './group-commit.ts';

export interface Connection {
  readonly db: Database.Database;
  /** A statement prepared once per distinct SQL text and reused (bounded cache; lists build a few shapes). */
  stmt(sql: string): Database.Statement;
  /**
   * Runs a write in the next group-commit batch (group-commit.ts): every write of the process that arrives in one
   * loop turn shares one transaction and one fsync. Resolves after the COMMIT.
   */
  write<T>(op: () => T): Promise<T>;
  /** Changes when this connection wrote rows or another connection committed (Store.changeStamp). */
  changeStamp(): string;
  close(): void;
}

const STATEMENT_CACHE_SIZE = 500;

export function openConnection(path: string, busyTimeoutMs: number): Connection {
  const db = new Database(path, { timeout: busyTimeoutMs });
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);

  // Insertion-ordered Map as an LRU: a hit moves the entry to the end; the oldest is evicted first.
  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    let s = cache.get(sql);
    if (s) {
      cache.delete(sql);
      cache.set(sql, s);
      return s;
    }
    s = db.prepare(sql);
    cache.set(sql, s);
    if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return s;
  };
  // File stores batch over a loop turn to share fsyncs; ':memory:' has no fsync to share, so it only waits for the
  // current microtasks (keeps the deterministic simulator's event order close to a plain async call).
  const conn: Connection = {
    db,
    stmt,
    write: (op) => writer.run(op),
    // total_changes(): rows this connection changed since it opened (rolled-back ones too: a harmless extra miss);
    // data_version: bumped when ANOTHER connection commits (`masakari db purge`, a second process).
    changeStamp: () => `${stmt('SELECT total_changes()').pluck().get() as number}:${stmt('PRAGMA data_version').pluck().get() as number}`,
    close: () => {
      cache.clear();
      if (db.open) db.close();
    },
  };
  const writer = groupCommitter(conn, db.memory ? queueMicrotask : setImmediate);
  return conn;
}

/** True for SQLite's UNIQUE constraint error on the given table.column. */
export function isUniqueViolation(e: unknown, tableDotColumn: string): boolean {
  const err = e as { code?: string; message?: string };
  return (
    typeof err?.code === 'string' &&
    err.code.startsWith('SQLITE_CONSTRAINT') &&
    typeof err.message === 'string' &&
    err.message.includes('UNIQUE') &&
    err.message.includes(tableDotColumn)
  );
}
