// The notification status machine, one function per transition:
//   new -> running -> finished | ignored | error;   new -> finished | ignored (decided at once, settleNew);
//   error -> running (the one retry) -> ... ;        error -> failed (retry failed too);
//   new | running | error -> failed (expired).
// Every transition goes through here, so the log and the observer see all of them.

import type { Notification, NotificationStatus } from '../domain/model.ts';
import type { Env } from '../env.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import type { EngineEvents } from '../observe/engine-events.ts';
import { NO_CONTROLLER_METRICS, type EngineMetrics } from '../observe/metric-set.ts';
import { secondsSince } from '../observe/metrics.ts';

export type StatusObserver = (uuid: string, status: NotificationStatus, reason: string | null) => void;

/** Claims to drop in the same write as a final status (Store.finishNotification). */
export interface ClaimRelease {
  owner: string;
  hostKey?: string;
}

export class StatusMachine {
  constructor(
    private readonly store: Store,
    private readonly env: Env,
    private readonly log: Logger,
    private readonly observe: StatusObserver,
    /** The event bus side: Masakari's notification.process.* and every status change (observe/engine-events.ts). */
    private readonly events?: EngineEvents,
    private readonly metrics: EngineMetrics = NO_CONTROLLER_METRICS,
  ) {}

  /** A processing attempt ended: counted by type and status, timed from acceptance (createdAt). */
  private ended(n: Notification, to: NotificationStatus): void {
    if (to === 'new' || to === 'running') return;
    const labels = { type: n.type, status: to };
    this.metrics.notificationsFinished.inc(labels);
    this.metrics.recoveryDuration.observe(secondsSince(n.createdAt.getTime(), this.env.nowMs()), labels);
  }

  private async set(n: Notification, to: NotificationStatus, reason: string | null, release?: ClaimRelease): Promise<Notification> {
    const updated = release
      ? await this.store.finishNotification(n.uuid, to, this.env.now(), reason, release)
      : await this.store.setNotificationStatus(n.uuid, to, this.env.now(), reason);
    this.ended(n, to);
    this.observe(n.uuid, to, reason);
    this.events?.status(n.uuid, to, reason);
    return updated;
  }

  /**
   * new -> finished | ignored in one conditional write (Store.settleNewNotification), for outcomes decided without
   * a workflow. undefined: the notification was no longer new and unclaimed; nothing was written.
   */
  async settleNew(n: Notification, to: NotificationStatus, reason: string | null, disabledSegment = false): Promise<Notification | undefined> {
    const updated = await this.store.settleNewNotification(n.uuid, to, this.env.now(), reason);
    if (!updated) return undefined;
    this.log.info({ notification: n.uuid, type: n.type, status: to, reason }, `Notification ${n.uuid} exits with status: ${to}.`);
    this.ended(n, to);
    this.observe(n.uuid, to, reason);
    this.events?.settled(n, to, reason, disabledSegment);
    this.events?.status(n.uuid, to, reason);
    return updated;
  }

  start(n: Notification): Promise<Notification> {
    this.log.info({ notification: n.uuid }, `Processing notification ${n.uuid} of type: ${n.type}`);
    this.events?.processStart(n);
    return this.set(n, 'running', null);
  }

  finish(n: Notification, note: string | null = null, release?: ClaimRelease): Promise<Notification> {
    return this.exit(n, 'finished', note, release);
  }

  ignore(n: Notification, reason: string, release?: ClaimRelease): Promise<Notification> {
    return this.exit(n, 'ignored', reason, release);
  }

  fail(n: Notification, reason: string, release?: ClaimRelease): Promise<Notification> {
    this.log.error({ notification: n.uuid }, `Failed to process notification '${n.uuid}'. Reason: ${reason}`);
    return this.exit(n, 'error', reason, release);
  }

  /** The one retry of an `error` notification ended in error again. */
  giveUp(n: Notification, reason: string | null): Promise<Notification> {
    this.log.error({ notification: n.uuid }, `Periodic task 'process_unfinished_notifications': Notification ${n.uuid} exits with status: failed.`);
    return this.set(n, 'failed', reason ?? n.lastError);
  }

  expire(n: Notification): Promise<Notification> {
    this.metrics.notificationsExpired.inc({ type: n.type });
    this.log.error({ notification: n.uuid }, `Periodic task 'check_expired_notifications': Notification ${n.uuid} is expired.`);
    return this.set(n, 'failed', `expired: not finished within notifications_expired_interval (status was ${n.status})`);
  }

  private exit(n: Notification, to: NotificationStatus, reason: string | null, release?: ClaimRelease): Promise<Notification> {
    this.log.info({ notification: n.uuid, status: to }, `Notification ${n.uuid} exits with status: ${to}.`);
    this.events?.processEnd(n, to, reason, n.status === 'running');
    return this.set(n, to, reason, release);
  }
}
