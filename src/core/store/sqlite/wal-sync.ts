// Makes committed WAL frames durable OFF the event loop.
//
// Why: with synchronous=FULL, SQLite fsyncs the WAL inside COMMIT, on the thread that also serves HTTP; under a
// notification flood that fsync was a quarter of the main thread's time. Instead the connection runs with
// synchronous=NORMAL and this module fdatasyncs the WAL file on a dedicated worker thread after each commit batch;
// the group committer resolves no caller before that sync returned. Why this is as durable as FULL for every
// acknowledged write:
// - In WAL mode, NORMAL never corrupts the database; it only may lose the last commits on power loss, because
//   COMMIT does not sync the WAL. The fdatasync here is exactly that missing sync, done before anyone is told.
// - fdatasync acts on the file (inode), whichever descriptor it is called on; it covers every frame written before
//   it started, including the WAL header.
// - Checkpoints still sync under NORMAL (the WAL before copying, the database file after), so a WAL that SQLite
//   restarts from the beginning never held the only copy of an acknowledged commit.
// - A newly created WAL's directory entry is synced once here (SQLite under FULL would sync the directory too).
// The worker is our own thread, not libuv's pool: a pool kept busy by calls to a frozen libvirtd must not hold up
// the 202s of the API.

import { closeSync, fdatasyncSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, errorCode, errorMessage } from '../../errors.ts';

export interface WalSyncer {
  /** Resolves once everything written to the WAL before the call is on stable storage. */
  sync(): Promise<void>;
  /**
   * Shutdown: syncs on the calling thread, resolves every sync still waiting (what they wait for is now on disk),
   * and stops the thread. Later sync() calls reject.
   */
  close(): void;
}

// CommonJS text run by the worker (eval: a file next to the bundle would not exist inside the single executable).
// It opens the WAL by path and re-opens it if SQLite ever replaced the file (new inode), syncing the directory then.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
let fd = -1, ino = -1;
function open() {
  const st = fs.statSync(workerData.walPath);
  if (st.ino === ino) return;
  if (fd >= 0) fs.closeSync(fd);
  fd = fs.openSync(workerData.walPath, 'r');
  ino = fs.fstatSync(fd).ino;
  const dir = fs.openSync(path.dirname(workerData.walPath), 'r');
  try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
}
parentPort.on('message', () => {
  try {
    open();
    fs.fdatasyncSync(fd);
    parentPort.postMessage({ ok: true });
  } catch (e) {
    parentPort.postMessage({ ok: false, message: String(e && e.message || e), code: e && e.code });
  }
});
`;

interface Reply {
  ok: boolean;
  message?: string;
  code?: string;
}

/** The WAL could not be made durable; final for this store (see failAll below). */
class WalSyncError extends AppError {
  readonly code = 'STORE_WAL_SYNC';
  constructor(
    message: string,
    /** The system error's code (ENOENT, EIO...), when there was one. */
    readonly syscode?: string,
  ) {
    super(`could not sync the SQLite WAL: ${message}`);
  }
}

/** For a database file in WAL mode whose `-wal` file exists (the connection has read from it). */
export function walSyncer(dbPath: string): WalSyncer {
  const walPath = `${dbPath}-wal`;
  // The first sync must not race the directory entry of a WAL the connection just created.
  syncDirectory(dirname(walPath));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { walPath } });
  // Referenced only while a sync is in flight: an idle syncer must not keep the process alive, a busy one must
  // (a CLI awaiting its last write would otherwise exit before the write is acknowledged).
  worker.unref();
  type Waiter = { resolve: () => void; reject: (e: Error) => void };
  /** Waiting for the sync in flight; empty exactly when none is in flight (a sync starts only for waiters). */
  let current: Waiter[] = [];
  /** Arrived while one was in flight: the next sync covers all of them at once. */
  let next: Waiter[] = [];
  let failure: Error | undefined;

  const start = () => {
    current = next;
    next = [];
    worker.ref();
    worker.postMessage(0);
  };
  const settle = () => {
    const done = current;
    current = [];
    for (const w of done) w.resolve();
    if (next.length && !failure) start();
    else worker.unref();
  };
  const failAll = (e: Error) => {
    if (failure) return;
    failure = e;
    const all = [...current, ...next];
    current = [];
    next = [];
    for (const w of all) w.reject(e);
    worker.unref();
  };
  // A failed fdatasync is final (as PostgreSQL learned, "fsyncgate"): the kernel may have dropped the dirty pages and
  // a later sync would succeed without them, and the WAL's checksum chain makes every later commit depend on them.
  // So the syncer fails for good and every write after it is refused until the process restarts.
  worker.on('message', (r: Reply) => (r.ok ? settle() : failAll(new WalSyncError(r.message ?? 'unknown error', r.code))));
  worker.on('error', (e) => failAll(new WalSyncError(e.message)));
  worker.on('exit', (code) => failAll(new WalSyncError(`sync thread exited (${code})`)));

  return {
    sync() {
      if (failure) return Promise.reject(failure);
      return new Promise<void>((resolve, reject) => {
        next.push({ resolve, reject });
        if (current.length === 0) start();
      });
    },
    close() {
      if (failure) return;
      const waiting = [...current, ...next];
      current = [];
      next = [];
      failure = new WalSyncError('the store is closed');
      let error: Error | undefined;
      try {
        const fd = openSync(walPath, 'r');
        try {
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch (e) {
        error = new WalSyncError(errorMessage(e), errorCode(e));
      }
      for (const w of waiting) error ? w.reject(error) : w.resolve();
      void worker.terminate();
    },
  };
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
