// Opens the SQLite file with the settings the store relies on, and hands out prepared statements.
//
// Durability: journal_mode=WAL lets API reads run while the engine writes. A write's promise resolves only once its
// commit is on stable storage, so a notification is on disk before the API answers 202: the group committer waits
// for an fdatasync of the WAL that a worker thread runs after each batch (wal-sync.ts says why that equals FULL),
// with synchronous=NORMAL so that COMMIT itself does not block the event loop on the disk. Where WAL is not
// available (a file system without shared memory), synchronous=FULL syncs in COMMIT instead. foreign_keys=ON
// because SQLite leaves it off by default. busy_timeout makes a second connection (another process, `masakari db
// purge`) wait for the write lock instead of failing with SQLITE_BUSY at once.

import Database from 'better-sqlite3';
import { groupCommitter } from './group-commit.ts';
import { walSyncer } from './wal-sync.ts';

export interface Connection {
  readonly db: Database.Database;
  /**
   * A statement prepared once per distinct SQL text and reused (bounded cache; lists build a few shapes). R is the
   * row it reads (a table's RowOf from schema.ts), as the caller knows from the SQL.
   */
  stmt<R = unknown>(sql: string): Database.Statement<unknown[], R>;
  /**
   * Runs a write in the next group-commit batch (group-commit.ts): every write of the process that arrives in one
   * loop turn shares one transaction and one fsync. Resolves after the COMMIT.
   */
  write<T>(op: () => T, savepoint?: boolean): Promise<T>;
  /** Changes when this connection wrote (noteWrite) or another connection committed (Store.changeStamp). */
  changeStamp(): string;
  /** Every write path calls this after its transaction (write() does it itself). */
  noteWrite(): void;
  close(): void;
}

const STATEMENT_CACHE_SIZE = 500;

export function openConnection(path: string, busyTimeoutMs: number): Connection {
  const db = new Database(path, { timeout: busyTimeoutMs });
  const wal = path !== ':memory:' && db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
  db.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);

  // Insertion-ordered Map as an LRU: a hit moves the entry to the end; the oldest is evicted first.
  const cache = new Map<string, Database.Statement>();
  const stmt = <R>(sql: string) => {
    let s = cache.get(sql);
    if (s) {
      cache.delete(sql);
      cache.set(sql, s);
      return s as Database.Statement<unknown[], R>;
    }
    s = db.prepare(sql);
    cache.set(sql, s);
    if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return s as Database.Statement<unknown[], R>;
  };
  // File stores batch over a loop turn to share fsyncs; ':memory:' has no fsync to share, so it only waits for the
  // current microtasks (keeps the deterministic simulator's event order close to a plain async call).
  // The change stamp (Store.changeStamp), asked on every API GET: kept out of the statement LRU's bookkeeping.
  let versionStmt: Database.Statement | undefined;
  let localWrites = 0;
  let dataVersion = 0;
  let versionFresh = false;
  const conn: Connection = {
    db,
    stmt,
    write: (op, savepoint) => writer.run(op, savepoint),
    // total_changes(): rows this connection changed since it opened (rolled-back ones too: a harmless extra miss);
    // data_version: bumped when ANOTHER connection commits (`masakari db purge`, a second process).
    changeStamp: () => {
      // data_version changes when ANOTHER connection committed (`masakari db purge`, a second process). Reading it
      // costs as much as a small query, so it is read once per event-loop turn: every request handled in this turn
      // was received before the turn's first read of it, so any commit its sender had seen acknowledged is visible
      // to that read. This connection's own writes are counted in JS (noteWrite), exactly.
      if (!versionFresh) {
        dataVersion = (versionStmt ??= db.prepare('PRAGMA data_version').pluck()).get() as number;
        versionFresh = true;
        setImmediate(() => (versionFresh = false));
      }
      return `${localWrites}:${dataVersion}`;
    },
    noteWrite: () => {
      localWrites++;
    },
    close: () => {
      cache.clear();
      syncer?.close();
      if (db.open) db.close();
    },
  };
  // The WAL file exists once the connection has read through it; the syncer opens it by name.
  if (wal) db.prepare('SELECT count(*) FROM sqlite_master').get();
  const syncer = wal ? walSyncer(path) : undefined;
  const writer = groupCommitter(conn, db.memory ? queueMicrotask : setImmediate, () => conn.noteWrite(), syncer && (() => syncer.sync()));
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
