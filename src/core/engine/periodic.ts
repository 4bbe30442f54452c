// Periodic jobs (Masakari's periodic tasks, plus the one Masakari lacks: resuming the work of a dead controller).
//  - unfinished (process_unfinished_notifications_interval): re-drive `new` older than
//    retry_notification_new_status_interval; retry `error` once, and if it ends in error again -> failed.
//  - orphans (orphan_scan_interval, default lease/2): `running` whose lease ran out (or that a previous life of this
//    controller held) -> resume where its persisted tasks stopped.
//  - expired (check_expired_notifications_interval): new/running/error older than notifications_expired_interval
//    (by generated_time) -> failed; the servers a stopped `running` workflow had locked are unlocked.
// All timing goes through Env; the jobs never overlap themselves.

import type { Config } from '../config/schema.ts';
import type { Notification } from '../domain/model.ts';
import type { Env, Timer } from '../env.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import type { ProcessMode, ProcessResult } from './engine.ts';
import type { StatusMachine } from './status.ts';
import { NO_CONTROLLER_METRICS, type EngineMetrics } from '../observe/metric-set.ts';

export interface PeriodicDeps {
  store: Store;
  env: Env;
  log: Logger;
  config: Config;
  ownerId: string;
  status: StatusMachine;
  process(uuid: string, mode: ProcessMode): Promise<ProcessResult>;
  isActive(uuid: string): boolean;
  /** Stops a workflow of this controller (its notification was failed under it); resolves once it has stopped. */
  stopLocal(uuid: string): Promise<void>;
  /** Unlocks the servers a stopped workflow had locked (expiry-unlock.ts). */
  unlockAfterExpiry(n: Notification): Promise<unknown>;
  timers: boolean;
  metrics?: EngineMetrics;
}

export interface PeriodicJobs {
  /** At start: take up every new notification and every running one nobody holds. Does not wait for them. */
  kick(): Promise<void>;
  /** Runs all jobs once and waits for the work they started. */
  runAll(): Promise<void>;
  stop(): void;
}

const BATCH = 1000;

/** Work a job started; boxed, because an async function returning a bare promise would wait for it. */
interface Work {
  work: Promise<unknown>;
}

export function startPeriodicJobs(d: PeriodicDeps): PeriodicJobs {
  const { store, env, config } = d;
  const metrics = d.metrics ?? NO_CONTROLLER_METRICS;
  /** Taken up again by a periodic job: counted once it was really processed here (not claimed elsewhere, not busy). */
  const counted = (kind: string, p: Promise<ProcessResult>, takeover = false) =>
    p.then((r) => {
      if (r !== 'claimed-elsewhere' && r !== 'busy' && r !== 'aborted') {
        metrics.periodicRetries.inc({ kind });
        if (takeover) metrics.leasesTakenOver.inc();
      }
      return r;
    });
  /** The pending timer of each job (one at a time: a job is rescheduled only after it ran). */
  const timers = new Map<string, Timer>();
  let stopped = false;

  const free = (n: Notification) =>
    n.claimedBy === null || n.claimedBy === d.ownerId || (n.claimExpiresAt !== null && n.claimExpiresAt.getTime() < env.nowMs());

  async function retryOnce(n: Notification): Promise<void> {
    const r = await counted('error', d.process(n.uuid, 'retry'));
    if (r === 'claimed-elsewhere' || r === 'busy' || r === 'aborted' || r === 'waiting-for-host') return;
    const cur = await store.getNotification(n.uuid);
    if (cur?.status === 'error') await d.status.giveUp(cur, cur.lastError);
  }

  /** Starts the work and returns a promise of it (the timer does not wait; runAll does). */
  async function unfinished(): Promise<Work> {
    const work: Promise<unknown>[] = [];
    const newAgeMs = config.engine.retry_notification_new_status_interval * 1000;
    for (const n of await store.findNotificationsByStatus(['error', 'new'], BATCH)) {
      if (d.isActive(n.uuid) || !free(n)) continue;
      if (n.status === 'error') work.push(retryOnce(n));
      else if (env.nowMs() - n.generatedTime.getTime() >= newAgeMs) work.push(counted('new', d.process(n.uuid, 'new')));
    }
    return { work: Promise.all(work) };
  }

  async function orphans(): Promise<Work> {
    const work: Promise<unknown>[] = [];
    for (const n of await store.findNotificationsByStatus(['running'], BATCH)) {
      if (d.isActive(n.uuid) || !free(n)) continue;
      d.log.warn({ notification: n.uuid, previousOwner: n.claimedBy }, 'resuming a notification whose controller stopped working on it');
      // Another owner's lease ran out: taken over. Our own (a previous life of this controller): resumed.
      work.push(counted('resume', d.process(n.uuid, 'resume'), n.claimedBy !== null && n.claimedBy !== d.ownerId));
    }
    return { work: Promise.all(work) };
  }

  async function expired(): Promise<Work> {
    const maxAgeMs = config.engine.notifications_expired_interval * 1000;
    for (const n of await store.findNotificationsByStatus(['new', 'running', 'error'], BATCH)) {
      if (env.nowMs() - n.generatedTime.getTime() > maxAgeMs) {
        await d.status.expire(n);
        await d.stopLocal(n.uuid);
        // A workflow still held by another live controller ends its evacuations and unlocks them itself.
        if (n.status === 'running' && free(n)) await d.unlockAfterExpiry(n);
      }
    }
    return { work: Promise.resolve() };
  }

  async function newOnes(): Promise<Work> {
    const work: Promise<unknown>[] = [];
    for (const n of await store.findNotificationsByStatus(['new'], BATCH)) {
      if (!d.isActive(n.uuid) && free(n)) work.push(d.process(n.uuid, 'new'));
    }
    return { work: Promise.all(work) };
  }

  const guard = (name: string, job: () => Promise<Work>) => async (): Promise<Work> => {
    try {
      return await job();
    } catch (e) {
      d.log.error({ job: name, err: e }, 'periodic job failed; it runs again at its next interval');
      return { work: Promise.resolve() };
    }
  };

  const jobs: [string, number, () => Promise<Work>][] = [
    ['expired', config.engine.check_expired_notifications_interval, guard('expired', expired)],
    ['unfinished', config.engine.process_unfinished_notifications_interval, guard('unfinished', unfinished)],
    ['orphans', config.engine.orphan_scan_interval ?? config.engine.claim_lease_seconds / 2, guard('orphans', orphans)],
  ];

  function every(name: string, seconds: number, job: () => Promise<Work>) {
    const tick = () => {
      if (stopped) return;
      void job()
        .then((w) => void w.work.catch(() => {}))
        .finally(() => {
          if (!stopped) timers.set(name, env.setTimer(tick, seconds * 1000));
        });
    };
    timers.set(name, env.setTimer(tick, seconds * 1000));
  }

  if (d.timers) for (const [name, s, job] of jobs) every(name, s, job);

  return {
    async kick() {
      await guard('start-new', newOnes)();
      await guard('start-orphans', orphans)();
    },
    async runAll() {
      for (const [, , job] of jobs) await (await job()).work;
    },
    stop() {
      stopped = true;
      for (const t of timers.values()) t.cancel();
    },
  };
}
