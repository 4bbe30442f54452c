// Group commit: many small write operations that arrive close together share ONE transaction and so ONE fsync.
//
// Why: with synchronous=FULL every commit fsyncs the WAL (~3.6 ms on the benchmark disk), and better-sqlite3 commits
// on the event loop, so one commit per accepted notification caps intake at a few hundred per second. Requests that
// arrive while a commit blocks the loop (or in the same loop turn) are queued here and written together.
//
// Guarantees kept:
// - Each operation runs in arrival order inside the shared transaction, so it sees every earlier one of the batch
//   (the duplicate check of the second of two identical notifications finds the first).
// - No caller's promise settles before the COMMIT returned and, where COMMIT does not sync (wal-sync.ts), before the
//   WAL was synced: a resolved result is on disk.
// - An operation that throws is rolled back alone (a savepoint per operation) and only its caller is rejected.
// - If BEGIN or COMMIT fails, the whole batch is rolled back and EVERY caller is rejected, even those whose own
//   operation succeeded: nothing is acknowledged that is not durable.

import type { Connection } from './connection.ts';

export interface GroupCommitter {
  /** Runs `op` inside the next batch transaction; resolves with its result after that transaction committed. */
  run<T>(op: () => T, savepoint?: boolean): Promise<T>;
}

interface Pending {
  op: () => unknown;
  savepoint: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * `schedule` decides how long a batch stays open: setImmediate (the default) lets the I/O callbacks of the current
 * loop turn, i.e. the requests that piled up during the previous commit, join before it is written.
 */
export function groupCommitter(
  conn: Connection,
  schedule: (flush: () => void) => void = setImmediate,
  /** Called after every batch, committed or not, before any caller is resumed (the change stamp's counter). */
  afterBatch: () => void = () => {},
  /**
   * Makes a committed batch durable when COMMIT itself did not (wal-sync.ts). Callers are resumed only after it
   * resolved; if it rejects, every caller of the batch is rejected, as for a failed COMMIT.
   */
  durable?: () => Promise<void>,
): GroupCommitter {
  let queue: Pending[] = [];

  const flush = () => {
    const batch = queue;
    queue = [];
    if (!batch.length) return;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    // A nested better-sqlite3 transaction is a SAVEPOINT: a failing operation undoes only its own writes.
    const one = conn.db.transaction((op: () => unknown) => op());
    try {
      conn.db
        .transaction(() => {
          for (const p of batch) {
            try {
              outcomes.push({ ok: true, value: p.savepoint ? one(p.op) : p.op() });
            } catch (e) {
              // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) make SQLite roll back the whole transaction: the earlier
              // operations are gone and later ones would autocommit one by one, so fail the batch as a whole.
              if (!conn.db.inTransaction) throw e;
              outcomes.push({ ok: false, value: e });
            }
          }
        })
        .immediate();
    } catch (e) {
      // BEGIN IMMEDIATE or COMMIT failed (busy, I/O error, disk full), or SQLite already rolled the batch back.
      afterBatch();
      for (const p of batch) p.reject(e);
      return;
    }
    afterBatch();
    const resume = () => batch.forEach((p, i) => (outcomes[i]!.ok ? p.resolve(outcomes[i]!.value) : p.reject(outcomes[i]!.value)));
    if (!durable) return resume();
    // The next batch may commit while this one's sync runs: syncs are coalesced by the syncer, commits never wait.
    durable().then(resume, (e) => batch.forEach((p) => p.reject(e)));
  };

  return {
    /**
     * `savepoint: false` is for operations whose only change is ONE statement, and that throw only when that
     * statement failed or changed nothing: SQLite undoes a failed statement by itself, so the savepoint (two more
     * statements per operation) buys nothing there.
     */
    run<T>(op: () => T, savepoint = true): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (!conn.db.open) return reject(new TypeError('The database connection is not open'));
        queue.push({ op, savepoint, resolve: resolve as (v: unknown) => void, reject });
        if (queue.length === 1) schedule(flush);
      });
    },
  };
}
