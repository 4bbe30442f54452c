// The outbox's own small SQLite file. A draft is a row from the moment submit() returns until the controller has
// answered for it; nothing is ever dropped: accepted/conflict rows are kept (pruned to the newest few) as an audit
// trail, rejected rows stay until an operator looks at them.

import Database from 'better-sqlite3';
import type { NotificationDraft } from '../ports/notify.ts';

export type OutboxState = 'pending' | 'sent' | 'rejected';

export interface OutboxRow {
  id: number;
  draft: NotificationDraft;
  state: OutboxState;
  attempts: number;
  nextAttemptMs: number;
  lastError: string | null;
  createdMs: number;
  updatedMs: number;
}

interface RawRow {
  id: number;
  hostname: string;
  body: string;
  state: OutboxState;
  attempts: number;
  next_attempt_ms: number;
  last_error: string | null;
  created_ms: number;
  updated_ms: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hostname TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'rejected')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  last_error TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, hostname, id);
`;

const toRow = (r: RawRow): OutboxRow => ({
  id: r.id,
  draft: JSON.parse(r.body) as NotificationDraft,
  state: r.state,
  attempts: r.attempts,
  nextAttemptMs: r.next_attempt_ms,
  lastError: r.last_error,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
});

export class OutboxStore {
  private readonly db: Database.Database;

  constructor(path: string, opts: { readonly?: boolean } = {}) {
    this.db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      // FULL: a draft acknowledged to a monitor survives a power cut, not only a process crash.
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    }
  }

  add(draft: NotificationDraft, nowMs: number): number {
    const info = this.db
      .prepare(
        `INSERT INTO outbox (hostname, body, state, attempts, next_attempt_ms, created_ms, updated_ms)
         VALUES (?, ?, 'pending', 0, ?, ?, ?)`,
      )
      .run(draft.hostname, JSON.stringify(draft), nowMs, nowMs, nowMs);
    return Number(info.lastInsertRowid);
  }

  /**
   * The oldest pending row of each host (order is kept per host: a host's later draft never overtakes an earlier
   * one), soonest due first.
   */
  heads(): OutboxRow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox WHERE state = 'pending' GROUP BY hostname)
         ORDER BY next_attempt_ms, id`,
      )
      .all() as RawRow[];
    return rows.map(toRow);
  }

  markSent(id: number, note: string | null, nowMs: number): void {
    this.db.prepare(`UPDATE outbox SET state = 'sent', attempts = attempts + 1, last_error = ?, updated_ms = ? WHERE id = ?`).run(note, nowMs, id);
  }

  markRejected(id: number, reason: string, nowMs: number): void {
    this.db.prepare(`UPDATE outbox SET state = 'rejected', attempts = attempts + 1, last_error = ?, updated_ms = ? WHERE id = ?`).run(reason, nowMs, id);
  }

  markFailed(id: number, reason: string, nextAttemptMs: number, nowMs: number): void {
    this.db
      .prepare(`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_ms = ?, updated_ms = ? WHERE id = ?`)
      .run(reason, nextAttemptMs, nowMs, id);
  }

  /**
   * Puts every rejected draft back in the queue (the operator fixed the cause, e.g. registered the host). Safe
   * while the agent runs: its sender picks them up at its next look at the table (within a minute).
   */
  requeueRejected(nowMs: number): number {
    return this.db.prepare(`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?, updated_ms = ? WHERE state = 'rejected'`).run(nowMs, nowMs)
      .changes;
  }

  /** Keeps only the newest `keep` sent rows. */
  pruneSent(keep: number): void {
    this.db.prepare(`DELETE FROM outbox WHERE state = 'sent' AND id NOT IN (SELECT id FROM outbox WHERE state = 'sent' ORDER BY id DESC LIMIT ?)`).run(keep);
  }

  counts(): Record<OutboxState, number> {
    const out: Record<OutboxState, number> = { pending: 0, sent: 0, rejected: 0 };
    for (const r of this.db.prepare(`SELECT state, COUNT(*) AS n FROM outbox GROUP BY state`).all() as {
      state: OutboxState;
      n: number;
    }[]) {
      out[r.state] = r.n;
    }
    return out;
  }

  /** When the oldest undelivered draft was queued (ms), or null when nothing is pending. */
  oldestPendingMs(): number | null {
    const r = this.db.prepare(`SELECT MIN(created_ms) AS m FROM outbox WHERE state = 'pending'`).get() as { m: number | null };
    return r.m;
  }

  list(state: OutboxState, limit = 100): OutboxRow[] {
    return (this.db.prepare(`SELECT * FROM outbox WHERE state = ? ORDER BY id LIMIT ?`).all(state, limit) as RawRow[]).map(toRow);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
