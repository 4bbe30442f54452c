// The recovery engine: takes accepted notifications, claims them (and the failed host) in the store with a lease,
// dispatches them to a workflow and writes the final status. Periodic jobs (periodic.ts) re-drive what nobody
// finished. One engine per controller process; several controllers can share one store.

import { setMaxListeners } from 'node:events';
import type { Config } from '../config/schema.ts';
import type { Notification, NotificationStatus, TaskState } from '../domain/model.ts';
import type { Env, Timer } from '../env.ts';
import type { Logger } from '../log.ts';
import type { ComputeDriver } from '../ports/compute.ts';
import type { FenceGate } from '../ports/fence.ts';
import type { LeaseFence, Store } from '../store/types.ts';
import { LeaseLostError } from '../store/errors.ts';
import { DISABLED_SEGMENT_OUTCOME, decideAtOnce, dispatch } from './dispatch.ts';
import { WorkflowAborted, isAbort } from './errors.ts';
import { failureEvent, type FailureEvent } from './event.ts';
import { startPeriodicJobs, type PeriodicJobs } from './periodic.ts';
import { resolveFlows, type ResolvedFlows } from './registry.ts';
import { FlowRunner } from './runner.ts';
import { StatusMachine } from './status.ts';
import { withTimeout } from './fence-gate.ts';
import { hostGuards } from './guards/index.ts';
import { unlockAfterExpiry } from './expiry-unlock.ts';
import { errorMessage } from '../errors.ts';
import type { EventBus } from '../observe/bus.ts';
import { publisherOf } from '../observe/events.ts';
import { EngineEvents } from '../observe/engine-events.ts';
import { NO_CONTROLLER_METRICS, type EngineMetrics } from '../observe/metric-set.ts';
import { secondsSince } from '../observe/metrics.ts';

export interface EngineObserver {
  status?(uuid: string, status: NotificationStatus, reason: string | null): void;
  task?(uuid: string, taskName: string, state: TaskState): void;
}

export interface EngineDeps {
  store: Store;
  compute: ComputeDriver;
  /** Evidence that a failed host is fenced; without one, host recovery needs host_failure.fencing_required=false. */
  fence?: FenceGate;
  config: Config;
  env: Env;
  log: Logger;
  /** Names this controller in claims; keep it stable across restarts (e.g. the hostname) to resume at once. */
  ownerId: string;
  /** Where custom task module paths are relative to (the config file's directory). */
  configDir?: string;
  observer?: EngineObserver;
  /** The process's event bus: processing start/end/error, task start/end, instance state changes (docs/observability.md). */
  bus?: EventBus;
  /** Where the engine, its tasks and periodic jobs record metrics (default: nowhere). */
  metrics?: EngineMetrics;
  /** Skip the periodic timers (tests drive runPeriodic() themselves). */
  periodic?: boolean;
}

/** How one processing attempt ended, for callers and tests. */
export type ProcessResult = 'done' | 'skipped' | 'claimed-elsewhere' | 'waiting-for-host' | 'aborted' | 'busy';

/** new: first processing; retry: the one retry of an `error`; resume: a `running` one whose controller died. */
export type ProcessMode = 'new' | 'retry' | 'resume';

export interface Engine {
  start(): Promise<void>;
  /** Stops timers and aborts running workflows (their claims are released; another controller resumes them). */
  stop(): Promise<void>;
  /** The API calls this after a notification was stored with status new. Never throws; work runs in background. */
  notificationAccepted(n: Notification | string): void;
  /** Processes one notification to its end (the background path uses this too). */
  process(uuid: string, mode?: ProcessMode): Promise<ProcessResult>;
  /** Runs every periodic job once now (tests, simulator). */
  runPeriodic(): Promise<void>;
  /** Resolves when no workflow of this engine is running. */
  idle(): Promise<void>;
  /** Sets the gauges read at scrape time (the oldest running workflow's age). */
  reportMetrics(): void;
  readonly ownerId: string;
}

interface Active {
  abort: AbortController;
  done: Promise<ProcessResult>;
  /** When its notification was accepted (ms), once the workflow read it; for the stuck-recovery gauge. */
  acceptedMs?: number;
}

export function createEngine(deps: EngineDeps): Engine {
  const { store, compute, config, env, log: parentLog, ownerId } = deps;
  const log = parentLog.child({ component: 'engine' });
  const leaseMs = config.engine.claim_lease_seconds * 1000;
  const events = deps.bus ? new EngineEvents(publisherOf(deps.bus)) : undefined;
  const metrics = deps.metrics ?? NO_CONTROLLER_METRICS;
  const status = new StatusMachine(store, env, log, (u, s, r) => deps.observer?.status?.(u, s, r), events, metrics);
  /** What the workflow's tasks write through: vmove changes and progress lines are published too. */
  const taskStore = events ? events.observedStore(store) : store;
  const active = new Map<string, Active>();
  /** Notifications waiting for a host claim held by another of our workflows: host key -> (uuid -> mode). */
  const waiting = new Map<string, Map<string, ProcessMode>>();
  const fence = deps.fence ? withTimeout(deps.fence, env, config.engine.wait_period_after_power_off * 1000) : undefined;
  let flows: ResolvedFlows | undefined;
  let jobs: PeriodicJobs | undefined;
  let stopping = false;

  /** One workflow at a time per failed host, or per instance for an instance failure (store column recovery_key). */
  const recoveryKey = (ev: FailureEvent, hostName: string) => (ev.type === 'VM' ? `instance:${String(ev.instanceUuid)}` : hostName);

  const logDisabledSegment = (n: Notification) =>
    log.info({ notification: n.uuid, type: n.type }, `Notification ${n.uuid} of type: ${n.type} is ignored, because the failover segment is disabled.`);

  /**
   * A new notification whose outcome needs no workflow (decideAtOnce, or a disabled segment) gets its final status
   * in one conditional write: no claim, no host claim, no `running`. Most of a flood is such notifications (VM events
   * that need no recovery), and four writes each were most of the engine's share of intake. false: run the workflow
   * path (which also owns every log line about skipped or missing rows).
   */
  async function settledAtOnce(uuid: string, accepted?: Notification): Promise<boolean> {
    // Type and payload never change, so the API's copy decides as well as a fresh read; the write re-checks status.
    const n = accepted ?? (await store.getNotification(uuid));
    if (!n || n.status !== 'new') return false;
    const host = await store.getHost(n.sourceHostUuid);
    const segment = host ? await store.getSegment(host.segmentUuid) : undefined;
    if (!host || !segment) return false;
    const outcome = segment.enabled ? decideAtOnce(n, failureEvent(n)) : DISABLED_SEGMENT_OUTCOME;
    if (!outcome) return false;
    if (!segment.enabled) logDisabledSegment(n);
    return (await status.settleNew(n, outcome.status, outcome.reason, !segment.enabled)) !== undefined;
  }

  async function run(uuid: string, mode: ProcessMode, ac: AbortController, accepted?: Notification): Promise<ProcessResult> {
    if (mode === 'new' && (await settledAtOnce(uuid, accepted))) return 'done';
    const claimedAtMs = env.nowMs();
    let n = await store.claimNotification(uuid, ownerId, leaseMs, env.now(), mode !== 'resume');
    if (!n) return 'claimed-elsewhere';
    metrics.leasesHeld.inc();
    const a = active.get(uuid);
    if (a) a.acceptedMs = n.createdAt.getTime();
    let key: string | undefined;
    let leaseLost = false;
    /** The final status write also dropped the claims (Store.finishNotification): nothing left for `finally`. */
    let released = false;
    let renewal: Timer | undefined;
    let leaseDeadline: Timer | undefined;
    /** Set once the workflow is writing its end: an in-flight renewal must neither reschedule nor cry "lost". */
    let renewing = true;
    try {
      const expected: NotificationStatus = mode === 'new' ? 'new' : mode === 'retry' ? 'error' : 'running';
      if (n.status !== expected) {
        if (mode === 'new') {
          log.warn({ notification: uuid, status: n.status }, 'Processing of notification is skipped to avoid recovering from failure twice.');
        }
        return 'skipped';
      }
      const host = await store.getHost(n.sourceHostUuid);
      const segment = host ? await store.getSegment(host.segmentUuid) : undefined;
      if (!host || !segment) {
        if (n.status !== 'running') n = await status.start(n);
        await status.fail(n, `Host ${n.sourceHostUuid} of notification '${uuid}' could not be found.`);
        return 'done';
      }
      if (mode === 'new' && !segment.enabled) {
        // Normally settled before the claim (settledAtOnce); here when the segment was disabled in between.
        logDisabledSegment(n);
        await status.ignore(n, DISABLED_SEGMENT_OUTCOME.reason!, { owner: ownerId });
        released = true;
        return 'done';
      }
      // The payload, read once: every decision below works on the typed event.
      const ev = failureEvent(n);
      key = recoveryKey(ev, host.name);
      if (!(await store.claimHostRecovery(key, uuid, ownerId, leaseMs, env.now()))) {
        // One workflow per failed host: wait for the one that runs (here or on another controller).
        const w = waiting.get(key) ?? waiting.set(key, new Map()).get(key)!;
        w.set(uuid, mode);
        key = undefined;
        return 'waiting-for-host';
      }
      const heldKey = key;
      // The lease by our own clock: when no renewal succeeded before it ran out (the database stalled or is out of
      // reach), another controller may take the workflow over; stop at once rather than keep calling the cloud.
      const armDeadline = (fromMs: number) => {
        leaseDeadline?.cancel();
        leaseDeadline = env.setTimer(
          () => {
            if (!renewing || ac.signal.aborted) return;
            leaseLost = true;
            log.error({ notification: uuid }, 'the claim on the notification ran out before it could be renewed; stopping its workflow');
            ac.abort();
          },
          Math.max(0, fromMs + leaseMs - env.nowMs()),
        );
      };
      armDeadline(claimedAtMs);
      const renew = async () => {
        const startedMs = env.nowMs();
        try {
          const ok =
            (await store.renewNotificationClaim(uuid, ownerId, leaseMs, env.now())) &&
            (await store.claimHostRecovery(heldKey, uuid, ownerId, leaseMs, env.now()));
          if (ok && renewing) armDeadline(startedMs);
          if (!ok && renewing) {
            leaseLost = true;
            log.error({ notification: uuid }, 'lost the claim on the notification; stopping its workflow');
            ac.abort();
          }
        } catch (e) {
          log.warn({ notification: uuid, err: errorMessage(e) }, 'lease renewal failed; retrying');
        }
      };
      const scheduleRenewal = () => {
        renewal = env.setTimer(() => {
          if (ac.signal.aborted) return;
          void renew().then(() => !ac.signal.aborted && renewing && scheduleRenewal());
        }, leaseMs / 3);
      };
      scheduleRenewal();
      // Every write of the workflow (tasks, checkpoints, vmoves) commits only while we still hold the claim (Store
      // LeaseFence). A refused one means another controller took the workflow over: stop at once, write nothing more.
      const leaseFence: LeaseFence = { notificationUuid: uuid, owner: ownerId };
      const refused = (e: unknown): never => {
        if (!(e instanceof LeaseLostError)) throw e;
        if (!leaseLost) {
          leaseLost = true;
          log.error({ notification: uuid }, 'a write of the workflow was refused: the claim on the notification is lost; stopping its workflow');
          ac.abort();
        }
        throw new WorkflowAborted(e.message);
      };
      const workflowStore: Store = {
        ...taskStore,
        appendTask: (u, name, state, now) => taskStore.appendTask(u, name, state, now, leaseFence).catch(refused),
        updateTask: (u, seq, patch, now) => taskStore.updateTask(u, seq, patch, now, leaseFence).catch(refused),
        createVMove: (input, now) => taskStore.createVMove(input, now, leaseFence).catch(refused),
        updateVMove: (u, patch, now) => taskStore.updateVMove(u, patch, now, leaseFence).catch(refused),
      };

      if (n.status !== 'running') {
        n = await status.start(n);
        if (mode === 'new') metrics.recoveryStartDelay.observe(secondsSince(n.createdAt.getTime(), env.nowMs()), { type: n.type });
      }
      const running = n;
      const runner = await FlowRunner.open(
        { notification: n, compute, store: workflowStore, env, config, log, signal: ac.signal, fenceGate: fence, metrics },
        n.attempts,
        (u, name, state) => {
          deps.observer?.task?.(u, name, state);
          events?.task(running, name, state);
        },
      );
      // guards/: mass-failure pause and host-return un-maintenance (null: dispatch as usual).
      const outcome =
        (await hostGuards({ store, env, log, config, metrics }, n, ev, host, segment, runner)) ??
        (await dispatch({ store, env, log, flows: flows! }, n, ev, host, segment, runner));
      if (ac.signal.aborted) throw new WorkflowAborted('aborted');
      // The expiry job may have failed it meanwhile: never overwrite a final status.
      const current = await store.getNotification(uuid);
      if (current && current.status !== 'running') return 'done';
      // The renewal timer must not re-take the claims this write drops.
      renewing = false;
      renewal?.cancel();
      const release = { owner: ownerId, hostKey: key };
      if (outcome.status === 'finished') await status.finish(n, outcome.reason, release);
      else if (outcome.status === 'ignored') await status.ignore(n, outcome.reason ?? 'ignored', release);
      else await status.fail(n, outcome.reason ?? 'unknown error', release);
      released = true;
      return 'done';
    } catch (e) {
      if (isAbort(e) || ac.signal.aborted) return 'aborted';
      // A bug or a store failure outside any task: the notification must not stay running forever.
      log.error({ notification: uuid, err: e }, 'unexpected error while processing notification');
      try {
        if (n.status === 'running' || n.status === 'new' || n.status === 'error') await status.fail(n, errorMessage(e));
      } catch (e2) {
        log.error({ notification: uuid, err: e2 }, 'could not record the failure');
      }
      return 'done';
    } finally {
      metrics.leasesHeld.dec();
      renewing = false;
      renewal?.cancel();
      leaseDeadline?.cancel();
      if (!leaseLost && !released) {
        if (key) await store.releaseHostRecovery(key, uuid).catch(() => {});
        await store.releaseNotificationClaim(uuid, ownerId).catch(() => {});
      }
      if (key) wakeWaiters(key);
    }
  }

  function wakeWaiters(key: string) {
    const w = waiting.get(key);
    if (!w || stopping) return;
    waiting.delete(key);
    // launch() never rejects (it logs a failure and resolves 'aborted'), and `active` tracks the run for stop().
    for (const [uuid, mode] of w) void launch(uuid, mode);
  }

  function launch(uuid: string, mode: ProcessMode, accepted?: Notification): Promise<ProcessResult> {
    const existing = active.get(uuid);
    if (existing) return Promise.resolve('busy');
    // Not started (or stopped): leave it `new`; start() takes up every new notification.
    if (stopping || !flows) return Promise.resolve('aborted');
    const ac = new AbortController();
    // Every wait of the workflow (one per parallel evacuation) listens on this signal.
    setMaxListeners(0, ac.signal);
    const done = run(uuid, mode, ac, accepted)
      .catch((e: unknown) => {
        log.error({ notification: uuid, err: e }, 'notification processing failed');
        return 'aborted' as const;
      })
      .finally(() => active.delete(uuid));
    active.set(uuid, { abort: ac, done });
    return done;
  }

  const engine: Engine = {
    ownerId,
    async start() {
      flows = await resolveFlows(config, deps.configDir);
      if (!config.host_failure.fencing_required) {
        log.warn(
          'host_failure.fencing_required is false: instances of failed hosts will be evacuated WITHOUT evidence that the host is powered off. ' +
            'A host that is only cut off from the network keeps running its VMs, and their disks may be written from two hosts.',
        );
      } else if (!deps.fence) {
        log.warn('no fencer is configured: host failures will end in error (set up fencing, or host_failure.fencing_required=false)');
      }
      stopping = false;
      jobs = startPeriodicJobs({
        store,
        env,
        log,
        config,
        ownerId,
        status,
        process: (u, m) => launch(u, m),
        isActive: (u) => active.has(u),
        stopLocal: async (u) => {
          const a = active.get(u);
          if (!a) return;
          a.abort.abort();
          await a.done;
        },
        unlockAfterExpiry: (n) => unlockAfterExpiry({ store, compute, log }, n),
        timers: deps.periodic !== false,
        metrics,
      });
      await jobs.kick();
    },
    async stop() {
      stopping = true;
      flows = undefined;
      jobs?.stop();
      for (const a of active.values()) a.abort.abort();
      await Promise.all([...active.values()].map((a) => a.done));
    },
    notificationAccepted(n) {
      if (typeof n === 'string') void launch(n, 'new');
      else {
        metrics.notificationsAccepted.inc({ type: n.type });
        void launch(n.uuid, 'new', n);
      }
    },
    process(uuid, mode = 'new') {
      return launch(uuid, mode);
    },
    async runPeriodic() {
      await jobs?.runAll();
    },
    reportMetrics() {
      let oldest: number | null = null;
      for (const a of active.values()) if (a.acceptedMs !== undefined && (oldest === null || a.acceptedMs < oldest)) oldest = a.acceptedMs;
      metrics.oldestRunningAge.set(oldest === null ? 0 : secondsSince(oldest, env.nowMs()));
    },
    async idle() {
      while (active.size) await Promise.all([...active.values()].map((a) => a.done));
    },
  };
  return engine;
}
