// The durable outbox: monitors submit drafts (written to disk before submit() resolves), and one sender loop
// delivers them to the controller, oldest first per host, retrying with capped exponential backoff FOREVER until
// the controller answers 2xx or 409. A 400 parks the draft as "rejected" (logged, shown by status()), never drops it.
// Unlike masakari-monitors (12 retries, then the notification is lost) nothing is given up while the controller is
// unreachable, and drafts survive restarts of the agent.

import { AppError } from '../errors.ts';
import { AbortError, type Env } from '../env.ts';
import type { Logger } from '../log.ts';
import type { NotificationDraft, NotificationSink } from '../ports/notify.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { OutboxStore, type OutboxRow } from './outbox-store.ts';
import type { NotificationTransport, SendOutcome } from '../ports/notification-transport.ts';
import { NO_COMPUTE_METRICS, type ComputeMetrics } from '../observe/metric-set.ts';

export interface OutboxOptions {
  path: string;
  transport: NotificationTransport;
  env: Env;
  log: Logger;
  backoff: BackoffOptions;
  /** How many delivered rows to keep as an audit trail. */
  keepSent?: number;
  /**
   * The longest idle wait before the table is read again, so that drafts queued by another process (the CLI's
   * --retry-rejected) are seen. Default one minute.
   */
  maxIdleMs?: number;
  /** Queued, delivered, rejected and failed deliveries; the backlog gauges are set by reportBacklog(). */
  metrics?: ComputeMetrics;
}

export interface OutboxStatus {
  pending: number;
  sent: number;
  rejected: number;
  /** The drafts the controller refused (400), with its reason: an operator must look at them. */
  rejectedDrafts: { id: number; draft: NotificationDraft; reason: string | null; atMs: number }[];
  /** The pending drafts with their attempt counts and last error (why they are not delivered yet). */
  pendingDrafts: { id: number; draft: NotificationDraft; attempts: number; lastError: string | null; nextAttemptMs: number }[];
}

export class OutboxClosedError extends AppError {
  readonly code = 'OUTBOX_CLOSED';

  constructor() {
    super('the outbox is stopped: the notification was not accepted');
  }
}

const DEFAULT_MAX_IDLE_MS = 60_000;

export class Outbox implements NotificationSink {
  private readonly store: OutboxStore;
  private readonly log: Logger;
  private closed = false;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wakeCtl = new AbortController();
  private sendCtl = new AbortController();
  private inFlight: Promise<unknown> | null = null;
  private readonly metrics: ComputeMetrics;

  constructor(private readonly opts: OutboxOptions) {
    this.store = new OutboxStore(opts.path);
    this.log = opts.log.child({ component: 'outbox' });
    this.metrics = opts.metrics ?? NO_COMPUTE_METRICS;
  }

  /** Sets the backlog gauges from the table (run before each scrape: two indexed queries). */
  reportBacklog(): void {
    if (this.closed) return;
    const c = this.store.counts();
    this.metrics.backlog.set(c.pending, { state: 'pending' });
    this.metrics.backlog.set(c.rejected, { state: 'rejected' });
    const oldest = this.store.oldestPendingMs();
    this.metrics.oldestPendingAge.set(oldest === null ? 0 : Math.max(0, (this.opts.env.nowMs() - oldest) / 1000));
  }

  /** Resolves once the draft is on disk; delivery happens in the background. */
  async submit(draft: NotificationDraft): Promise<void> {
    if (this.closed) throw new OutboxClosedError();
    const id = this.store.add(draft, this.opts.env.nowMs());
    this.metrics.queued.inc({ type: draft.type });
    this.log.info({ id, type: draft.type, hostname: draft.hostname, payload: draft.payload }, 'notification queued');
    this.wake();
  }

  start(): void {
    if (this.loop || this.closed) return;
    const c = this.store.counts();
    if (c.pending > 0) this.log.info({ pending: c.pending }, 'resuming delivery of notifications left from before');
    if (c.rejected > 0) this.log.warn({ rejected: c.rejected }, 'the controller rejected some notifications earlier: see the outbox status');
    this.loop = this.run();
  }

  /**
   * Stops the sender: waits up to `graceMs` for a send in flight to finish, then abandons it (the draft stays
   * pending and is sent again after a restart; the controller answers 409 if it already has it).
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.stopping = true;
    this.wakeCtl.abort();
    if (this.inFlight) {
      const grace = new AbortController();
      await Promise.race([this.inFlight, this.opts.env.sleep(graceMs, grace.signal).catch(() => undefined)]);
      grace.abort();
    }
    this.sendCtl.abort();
    await this.loop;
    this.closed = true;
    this.store.close();
  }

  /** The backlog for the heartbeat: drafts not delivered yet, parked ones, and how long the oldest has waited. */
  backlog(): { pending: number; rejected: number; oldest_pending_age_seconds: number | null } {
    if (this.closed) return { pending: 0, rejected: 0, oldest_pending_age_seconds: null };
    const c = this.store.counts();
    const oldest = this.store.oldestPendingMs();
    return {
      pending: c.pending,
      rejected: c.rejected,
      oldest_pending_age_seconds: oldest === null ? null : Math.max(0, (this.opts.env.nowMs() - oldest) / 1000),
    };
  }

  status(limit = 100): OutboxStatus {
    return statusOf(this.store, limit);
  }

  private wake(): void {
    this.wakeCtl.abort();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const heads = this.store.heads();
        const now = this.opts.env.nowMs();
        const due = heads.find((h) => h.nextAttemptMs <= now);
        if (!due) {
          const maxIdle = this.opts.maxIdleMs ?? DEFAULT_MAX_IDLE_MS;
          const wait = heads.length ? Math.min(heads[0]!.nextAttemptMs - now, maxIdle) : maxIdle;
          await this.idle(wait);
          continue;
        }
        const sending = this.opts.transport.send(due.draft, this.sendCtl.signal);
        this.inFlight = sending;
        let outcome: SendOutcome;
        try {
          outcome = await sending;
        } finally {
          this.inFlight = null;
        }
        this.record(due, outcome);
      } catch (e) {
        if (this.stopping && (e instanceof AbortError || this.sendCtl.signal.aborted)) break;
        // The loop must never die (masakari-hostmonitor's did, silently): log, breathe, go on.
        this.log.error({ err: e }, 'outbox sender error; continuing');
        await this.idle(1000);
      }
    }
  }

  /** Sleeps until `ms` passes, a new draft arrives or stop() is called. */
  private async idle(ms: number): Promise<void> {
    if (this.wakeCtl.signal.aborted) this.wakeCtl = new AbortController();
    if (this.stopping) return;
    try {
      await this.opts.env.sleep(Math.max(0, ms), this.wakeCtl.signal);
    } catch {
      // woken up early: a new draft or stop()
    }
    if (this.wakeCtl.signal.aborted) this.wakeCtl = new AbortController();
  }

  private record(row: OutboxRow, outcome: SendOutcome): void {
    const now = this.opts.env.nowMs();
    const ctx = { id: row.id, type: row.draft.type, hostname: row.draft.hostname, payload: row.draft.payload, transport: this.opts.transport.name };
    switch (outcome.kind) {
      case 'accepted':
        this.store.markSent(row.id, null, now);
        this.metrics.delivered.inc({ type: row.draft.type, result: 'accepted' });
        this.log.info({ ...ctx, status: outcome.status, attempts: row.attempts + 1 }, 'notification delivered');
        break;
      case 'conflict':
        this.store.markSent(row.id, `409: ${outcome.message}`, now);
        this.metrics.delivered.inc({ type: row.draft.type, result: 'duplicate' });
        this.log.info(
          { ...ctx, status: outcome.status, reason: outcome.message },
          'controller already has this notification or the host is on maintenance (409): not resending',
        );
        break;
      case 'rejected':
        this.store.markRejected(row.id, `${outcome.status}: ${outcome.message}`, now);
        this.metrics.rejected.inc({ type: row.draft.type });
        this.log.error({ ...ctx, status: outcome.status, reason: outcome.message }, 'controller rejected the notification: parked as rejected');
        break;
      case 'retry': {
        const delay = backoffDelay(row.attempts + 1, this.opts.backoff, () => this.opts.env.random());
        this.store.markFailed(row.id, outcome.message, now + delay, now);
        this.metrics.deliveryFailures.inc({ type: row.draft.type });
        this.log.warn({ ...ctx, attempts: row.attempts + 1, retryInMs: delay, reason: outcome.message }, 'notification not delivered yet; will retry');
        break;
      }
    }
    if (outcome.kind !== 'retry') this.store.pruneSent(this.opts.keepSent ?? 1000);
  }
}

/** Status of an outbox file, also usable read-only from the CLI while the agent runs. */
export function statusOf(store: OutboxStore, limit = 100): OutboxStatus {
  const c = store.counts();
  return {
    ...c,
    rejectedDrafts: store.list('rejected', limit).map((r) => ({ id: r.id, draft: r.draft, reason: r.lastError, atMs: r.updatedMs })),
    pendingDrafts: store.list('pending', limit).map((r) => ({
      id: r.id,
      draft: r.draft,
      attempts: r.attempts,
      lastError: r.lastError,
      nextAttemptMs: r.nextAttemptMs,
    })),
  };
}
