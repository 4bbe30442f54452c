// EvacuateInstancesTask: moves every chosen instance off the failed host, a bounded number at a time, and confirms
// each one. Idempotent by construction: before acting on an instance it looks at where the instance is now and at
// its vmove (succeeded -> nothing to do; already on another host -> confirm instead of evacuating again), and the
// instance's original state is checkpointed before the first change so a resumed run restores it correctly.
// Each instance's evacuation is a named state machine (InstanceEvacuation, below): one method per state.

import type { VMove, WorkflowTaskRecord } from '../../domain/model.ts';
import { AppError, errorMessage } from '../../errors.ts';
import { ComputeDriverError, type ServerInfo } from '../../ports/compute.ts';
import { MissingTaskInput, RecoveryFailure, WorkflowAborted, isAbort } from '../errors.ts';
import type { RecoveryTask, TaskContext } from '../task.ts';
import { listAllVMoves } from './host.ts';
import { evacuationConcurrency, reservedHostUnusable } from '../rules.ts';
import { waitFor } from './util.ts';
import { NO_CONTROLLER_METRICS } from '../../observe/metric-set.ts';
import { secondsSince } from '../../observe/metrics.ts';
import { EvacuationWatch } from './evacuation-watch.ts';

const SHUTDOWN = 4;

/** What we knew about an instance before touching it; persisted in the task checkpoint. */
interface Original {
  vmState: string;
  /** We locked it (so we unlock it); false when the user had locked it already. */
  lockedByUs: boolean;
  /** Stop it after evacuation (Masakari's rules for non-active instances). */
  stopAfter: boolean;
  /** vm_state the confirmation compares against (after a reset to error, that is 'error'). */
  expectState: string;
  /** Taken over from an earlier execution: the state facts hold, but this execution still locks and prepares. */
  inherited?: boolean;
  /** Saved before locking and preparing, so that a crash in between still knows the original state and the lock. */
  preparing?: boolean;
}

type Checkpoint = Record<string, Original>;

/** One attempt at one instance failed (error state, or a timeout); the task retries, then records the vmove failed. */
class EvacuationFailed extends AppError {
  readonly code = 'EVACUATION_FAILED';
}

/** A counting semaphore per key (target host). */
class Slots {
  private used = new Map<string, number>();
  private waiters = new Map<string, (() => void)[]>();
  constructor(private readonly limit: number) {}
  async take(key: string): Promise<void> {
    if (this.limit <= 0) return;
    while ((this.used.get(key) ?? 0) >= this.limit) {
      await new Promise<void>((r) => (this.waiters.get(key) ?? this.waiters.set(key, []).get(key)!).push(r));
    }
    this.used.set(key, (this.used.get(key) ?? 0) + 1);
  }
  give(key: string): void {
    if (this.limit <= 0) return;
    this.used.set(key, (this.used.get(key) ?? 1) - 1);
    this.waiters.get(key)?.shift()?.();
  }
}

async function enableReservedHost(ctx: TaskContext, failedHost: string, reserved: string): Promise<void> {
  await ctx.update(`Enabling reserved host: '${reserved}'`, 0.1);
  // A reserved host that is itself dead would only collect failed evacuations: go to the next one at once.
  const before = await ctx.compute.getComputeService(reserved);
  const unusable = reservedHostUnusable(before);
  if (unusable) {
    await ctx.update(unusable, 1.0);
    throw new RecoveryFailure(unusable);
  }
  if (ctx.config.host_failure.add_reserved_host_to_aggregate) {
    for (const agg of await ctx.compute.listAggregates()) {
      if (!agg.hosts.includes(failedHost)) continue;
      if (agg.hosts.includes(reserved)) {
        await ctx.update(`Host '${reserved}' already has been added to aggregate '${agg.name}'.`, 1.0);
        continue;
      }
      try {
        await ctx.update(`Add host ${reserved} to aggregate ${agg.name}`, 0.2);
        await ctx.compute.addHostToAggregate(agg.id, reserved);
        await ctx.update(`Added host ${reserved} to aggregate ${agg.name}`, 0.3);
      } catch (e) {
        if (!(e instanceof ComputeDriverError && e.code === 'conflict')) throw e;
        await ctx.update(`Host '${reserved}' already has been added to aggregate '${agg.name}'.`, 1.0);
      }
    }
  }
  if (before.status !== 'enabled') await ctx.compute.enableComputeService(reserved);
  const h = await ctx.store.getHostByName(reserved);
  if (h?.reserved) await ctx.store.updateHost(h.uuid, { reserved: false }, ctx.env.now());
}

/** Masakari's preparation of an instance's state so that Nova accepts the evacuation. */
async function prepareState(ctx: TaskContext, s: ServerInfo, lockedByUs: boolean): Promise<Original> {
  let stopAfter = true;
  let expectState = s.vmState as string;
  if (!['active', 'error', 'stopped'].includes(s.vmState)) {
    await ctx.compute.resetServerState(s.id, 'error');
    const now = await ctx.compute.getServer(s.id);
    expectState = now.vmState;
    if (s.vmState === 'resized' && now.powerState !== SHUTDOWN) stopAfter = false;
  } else if (s.vmState === 'stopped' && s.taskState === null) {
    stopAfter = false;
  } else if (s.taskState !== null) {
    await ctx.compute.resetServerState(s.id, 'error');
    expectState = (await ctx.compute.getServer(s.id)).vmState;
    if (s.vmState === 'active') stopAfter = false;
  }
  return { vmState: s.vmState, lockedByUs, stopAfter, expectState };
}

/**
 * Evacuated = on another host, idle, and in the state it had (or active, when it had been in error). With a `watch`
 * (drivers with a batched observeServers) the server is confirmed with the others of its host, else polled alone.
 * Returns the server as confirmed when batched.
 */
async function confirmEvacuated(ctx: TaskContext, id: string, source: string, orig: Original, watch?: EvacuationWatch): Promise<ServerInfo | undefined> {
  const evacuated = (s: ServerInfo) => {
    if (s.vmState === 'error' && s.vmState !== orig.expectState) {
      throw new EvacuationFailed(`Failed to evacuate instance ${id}`);
    }
    return s.host !== source && s.taskState === null && (s.vmState === orig.expectState || (orig.expectState === 'error' && s.vmState === 'active'));
  };
  if (watch) {
    const s = await watch.until(id, evacuated, ctx.config.engine.wait_period_after_evacuation);
    if (!s) throw new EvacuationFailed('Failed reason: timeout.');
    return s;
  }
  const ok = await waitFor(ctx, ctx.config.engine.wait_period_after_evacuation, async () => evacuated(await ctx.compute.getServer(id)));
  if (!ok) throw new EvacuationFailed('Failed reason: timeout.');
  return undefined;
}

async function stopAfterEvacuation(ctx: TaskContext, id: string, orig: Original): Promise<void> {
  if (orig.vmState === 'active' || !orig.stopAfter) return;
  const now = await ctx.compute.getServer(id);
  if (now.vmState !== 'stopped') {
    await ctx.compute.stopServer(id);
    const stopped = await waitFor(ctx, ctx.config.engine.wait_period_after_power_off, async () => (await ctx.compute.getServer(id)).vmState === 'stopped');
    if (!stopped) throw new EvacuationFailed('Failed reason: timeout.');
  }
  // An instance in error before the failure goes back to error after recovery (Masakari).
  if (orig.vmState === 'error') await ctx.compute.resetServerState(id, 'error');
}

/** True when the backend may still move the server (a rebuild task state, or its latest evacuation unfinished). */
async function evacuationUnderWay(ctx: TaskContext, id: string, s: ServerInfo): Promise<boolean> {
  if (s.taskState?.startsWith('rebuild')) return true;
  const last = await ctx.compute.latestEvacuation(id);
  if (last?.status !== 'in_progress') return false;
  ctx.log.warn(
    { instance: id, destHost: last.destHost, since: last.createdAt?.toISOString() },
    'an evacuation of this instance is still under way: waiting for it instead of evacuating again',
  );
  return true;
}

/**
 * Servers this task locked (they were unlocked when we came) according to its checkpoints in `records`, for the one
 * who must unlock them when the workflow was stopped under the task (the expiry job: periodic.ts).
 */
export function serversLockedByEvacuation(records: WorkflowTaskRecord[]): string[] {
  const ids = new Set<string>();
  for (const r of records) {
    if (r.name !== EVACUATE_TASK_NAME) continue;
    const checkpoint = (r.result as { checkpoint?: unknown } | null)?.checkpoint;
    if (!checkpoint || typeof checkpoint !== 'object') continue;
    for (const [id, orig] of Object.entries(checkpoint as Checkpoint)) if (orig?.lockedByUs) ids.add(id);
  }
  return [...ids];
}

const EVACUATE_TASK_NAME = 'EvacuateInstancesTask';

/** What the instances of one execution of the task share. */
interface EvacuationRun {
  readonly ctx: TaskContext;
  readonly failedHost: string;
  /** The reserved host of this reserved_host flow; undefined: the scheduler chooses. */
  readonly reserved: string | undefined;
  /** Original state per instance, persisted as the task's checkpoint. */
  readonly checkpoint: Checkpoint;
  /** The latest vmove per instance. */
  readonly latest: Map<string, VMove>;
  readonly perTarget: Slots;
  /** Batched confirmation, when the driver observes many servers at once (Nova); undefined: poll each server. */
  readonly watch: EvacuationWatch | undefined;
}

/**
 * The states of one instance's evacuation. An attempt runs inspect -> [prepare ->] evacuate -> confirm -> restore ->
 * record; a failure anywhere in an attempt goes back to inspect while attempts remain
 * (host_failure.evacuation_retries), then to failed. succeeded and failed are final.
 */
type EvacuationState = 'inspect' | 'prepare' | 'evacuate' | 'confirm' | 'restore' | 'record' | 'succeeded' | 'failed';

/**
 * One instance's evacuation as a named state machine (as pve-ha-manager writes its manager): one method per state,
 * each doing that state's work and returning the next state. What it knew before touching the instance (`orig`) is
 * checkpointed before the first change, so a resumed execution starts again at inspect and goes on from there.
 */
class InstanceEvacuation {
  private state: EvacuationState = 'inspect';
  private attempt = 0;
  /** The server as last read by inspect or prepare. */
  private server: ServerInfo | undefined;
  private failure = '';
  private unlocked = false;
  /** The server as the batched confirmation last saw it (its destination), so record need not ask again. */
  private confirmed: ServerInfo | undefined;

  constructor(
    private readonly run: EvacuationRun,
    private readonly id: string,
    private vmove: VMove,
    private orig: Original | undefined,
  ) {}

  private get ctx(): TaskContext {
    return this.run.ctx;
  }

  private now(): Date {
    return this.ctx.env.now();
  }

  /** Drives the states to a final one, holding a slot of the target host's cap meanwhile. */
  async drive(): Promise<void> {
    const slotKey = this.run.reserved ?? '';
    await this.run.perTarget.take(slotKey);
    // Measured from the slot on (waiting for the target's cap is not the evacuation's time); aborts are not results.
    const metrics = this.ctx.metrics ?? NO_CONTROLLER_METRICS;
    const startedMs = this.ctx.env.nowMs();
    metrics.instancesInFlight.inc({ action: 'evacuation' });
    try {
      while (this.state !== 'succeeded' && this.state !== 'failed') {
        // Stopped (this controller is stopping, or lost its lease): no further call to the cloud for this instance.
        if (this.ctx.signal.aborted) throw new WorkflowAborted('aborted');
        try {
          this.state = await this.next(this.state);
        } catch (e) {
          this.state = this.attemptFailed(e);
        }
      }
      if (this.state === 'failed') await this.recordFailure();
    } finally {
      metrics.instancesInFlight.dec({ action: 'evacuation' });
      if (this.state === 'succeeded' || this.state === 'failed') {
        metrics.instanceEvacuationDuration.observe(secondsSince(startedMs, this.ctx.env.nowMs()), { result: this.state });
      }
      this.run.perTarget.give(slotKey);
      await this.unlock();
    }
  }

  private next(state: Exclude<EvacuationState, 'succeeded' | 'failed'>): Promise<EvacuationState> {
    switch (state) {
      case 'inspect':
        return this.inspect();
      case 'prepare':
        return this.prepare();
      case 'evacuate':
        return this.evacuate();
      case 'confirm':
        return this.confirm();
      case 'restore':
        return this.restore();
      case 'record':
        return this.record();
    }
  }

  /** Where the instance is now; whether its original state is known yet (a first or interrupted preparation). */
  private async inspect(): Promise<EvacuationState> {
    this.server = await this.ctx.compute.getServer(this.id);
    const o = this.orig;
    return !o || o.inherited || o.preparing ? 'prepare' : 'evacuate';
  }

  /** Lock and put it in a state Nova evacuates, checkpointing first what is about to change. */
  private async prepare(): Promise<EvacuationState> {
    const { ctx, checkpoint } = this.run;
    const s = this.server!;
    // Facts saved by a failed earlier flow of this run, or by a preparation a crash interrupted.
    const first = this.orig;
    // Record first what we are about to change: a crash right after the lock must still unlock.
    const lockedByUs = first?.preparing ? first.lockedByUs : !s.locked;
    const preparing: Original = {
      vmState: first?.vmState ?? s.vmState,
      stopAfter: first?.stopAfter ?? true,
      expectState: s.vmState,
      lockedByUs,
      preparing: true,
    };
    checkpoint[this.id] = preparing;
    await ctx.saveCheckpoint(checkpoint);
    // From here a failed attempt is a preparation cut short, as after a crash: the retry (and the final unlock) must
    // know that we hold the lock, not read the instance as locked by its user.
    this.orig = preparing;
    if (lockedByUs && !s.locked) await ctx.compute.lockServer(this.id);
    const fresh = await prepareState(ctx, s, lockedByUs);
    // The state first seen wins over what an earlier flow or an interrupted preparation left behind.
    if (first?.inherited) this.orig = { ...fresh, vmState: first.vmState, stopAfter: first.stopAfter };
    else if (first?.preparing) this.orig = { ...fresh, vmState: first.vmState };
    else this.orig = fresh;
    checkpoint[this.id] = this.orig;
    await ctx.saveCheckpoint(checkpoint);
    this.server = await ctx.compute.getServer(this.id);
    return 'evacuate';
  }

  /**
   * Still on the failed host and no evacuation of it under way: evacuate. Otherwise it is already elsewhere (an
   * evacuation issued before a crash): go on to confirm, never repeat. Not "not rebuilding" alone: Nova shows a
   * server whose rebuild ended but whose move the new host has not recorded yet as active, idle, on the failed host,
   * and accepts a second evacuate then (found on the OpenStack lab: bench/openstack).
   */
  private async evacuate(): Promise<EvacuationState> {
    const { ctx, failedHost } = this.run;
    const s = this.server!;
    if (s.host === failedHost && !(await evacuationUnderWay(ctx, this.id, s))) {
      if (this.vmove.status !== 'ongoing' || !this.vmove.startTime) {
        this.vmove = await ctx.store.updateVMove(this.vmove.uuid, { status: 'ongoing', startTime: this.now() }, this.now());
      }
      if (s.vmState === 'error' && this.orig!.expectState !== 'error') {
        // A failed earlier attempt left it in error: Nova evacuates error instances, expect active.
        this.orig = { ...this.orig!, expectState: 'error' };
      }
      await ctx.compute.evacuateServer(this.id, this.run.reserved);
    }
    return 'confirm';
  }

  private async confirm(): Promise<EvacuationState> {
    this.confirmed = await confirmEvacuated(this.ctx, this.id, this.run.failedHost, this.orig!, this.run.watch);
    return 'restore';
  }

  /** Back to the power state it had (Masakari's rules for non-active instances). */
  private async restore(): Promise<EvacuationState> {
    await stopAfterEvacuation(this.ctx, this.id, this.orig!);
    return 'record';
  }

  private async record(): Promise<EvacuationState> {
    const dest = this.confirmed?.host ?? (await this.ctx.compute.getServer(this.id)).host;
    // Unlock before recording success: a crash in between repeats the (harmless) unlock, never skips it.
    await this.unlock();
    this.vmove = await this.ctx.store.updateVMove(this.vmove.uuid, { status: 'succeeded', destHost: dest, endTime: this.now() }, this.now());
    this.run.latest.set(this.id, this.vmove);
    return 'succeeded';
  }

  /** A failed attempt: inspect again while attempts remain. An abort (controller stopping) ends it at once. */
  private attemptFailed(e: unknown): EvacuationState {
    if (isAbort(e) || this.ctx.signal.aborted) throw e;
    this.failure = errorMessage(e);
    this.ctx.log.warn({ instance: this.id, attempt: this.attempt, err: this.failure }, 'evacuation attempt failed');
    if (this.attempt >= this.ctx.config.host_failure.evacuation_retries) return 'failed';
    this.attempt++;
    return 'inspect';
  }

  private async recordFailure(): Promise<void> {
    this.vmove = await this.ctx.store.updateVMove(this.vmove.uuid, { status: 'failed', message: this.failure, endTime: this.now() }, this.now());
    this.run.latest.set(this.id, this.vmove);
  }

  private async unlock(): Promise<void> {
    if (this.unlocked || !this.orig?.lockedByUs || this.ctx.signal.aborted) return;
    this.unlocked = true;
    await this.ctx.compute.unlockServer(this.id).catch((e: unknown) => this.ctx.log.warn({ instance: this.id, err: errorMessage(e) }, 'unlock failed'));
  }
}

/**
 * What each instance looked like before this workflow touched it: from this task's checkpoint, or from an earlier
 * execution in this run (a *_priority fallback must not take the error state it left for the original).
 */
function restoredCheckpoint(ctx: TaskContext): Checkpoint {
  const checkpoint: Checkpoint = {};
  for (const earlier of ctx.earlierCheckpoints) Object.assign(checkpoint, earlier as Checkpoint);
  for (const [id, o] of Object.entries(checkpoint)) checkpoint[id] = { ...o, lockedByUs: false, inherited: true };
  Object.assign(checkpoint, (ctx.checkpoint as Checkpoint | undefined) ?? {});
  return checkpoint;
}

/** Starts (or takes up again) one instance's evacuation; an instance whose vmove succeeded is never touched again. */
async function evacuateOne(run: EvacuationRun, id: string): Promise<void> {
  const { ctx, latest } = run;
  let vmove = latest.get(id);
  if (vmove?.status === 'succeeded') return; // done before a crash: never again
  if (!vmove || vmove.status === 'failed' || vmove.status === 'ignored') {
    vmove = await ctx.store.createVMove(
      {
        notificationUuid: ctx.notification.uuid,
        instanceUuid: id,
        instanceName: null,
        sourceHost: run.failedHost,
        destHost: null,
        type: 'evacuation',
        status: 'pending',
      },
      ctx.env.now(),
    );
    latest.set(id, vmove);
  }
  await ctx.update(`Evacuation of instance started: '${id}'`, 0.5);
  await new InstanceEvacuation(run, id, vmove, run.checkpoint[id]).drive();
}

/** The outcome over all instances, in Masakari's words; some failed: RecoveryFailure. */
async function reportOutcome(run: EvacuationRun, wanted: string[]): Promise<void> {
  const { ctx, failedHost } = run;
  const outcome = wanted.map((id) => run.latest.get(id)!);
  const succeeded = outcome
    .filter((v) => v.status === 'succeeded')
    .map((v) => v.instanceUuid)
    .sort();
  const failed = outcome.filter((v) => v.status === 'failed').map((v) => v.instanceUuid);
  if (succeeded.length) {
    await ctx.update(`Successfully evacuate instances '${succeeded.join(',')}' from host '${failedHost}'`, 0.7);
  }
  if (failed.length) {
    const msg = `Failed to evacuate instances '${failed.join(',')}' from host '${failedHost}'`;
    await ctx.update(msg, 0.7);
    throw new RecoveryFailure(msg);
  }
  await ctx.update('Evacuation process completed!', 1.0);
}

function instanceList(ctx: TaskContext): string[] {
  const list = ctx.values.instance_list;
  if (!Array.isArray(list)) throw new MissingTaskInput(EVACUATE_TASK_NAME, 'instance_list');
  return list as string[];
}

export const evacuateInstancesTask: RecoveryTask = {
  displayName: EVACUATE_TASK_NAME,
  inputs: ['host_name', 'instance_list'],
  async execute(ctx) {
    const failedHost = ctx.input('host_name');
    const reserved = typeof ctx.values.reserved_host === 'string' ? ctx.values.reserved_host : undefined;
    const wanted = instanceList(ctx);
    await ctx.update(`Start evacuation of instances from failed host '${failedHost}', instance uuids are: '${wanted.join(',')}'`);
    if (reserved) await enableReservedHost(ctx, failedHost, reserved);

    const checkpoint = restoredCheckpoint(ctx);
    const latest = new Map<string, VMove>();
    for (const v of await listAllVMoves(ctx.store, ctx.notification.uuid)) latest.set(v.instanceUuid, v);
    // Worker count and per-target cap come from rules.ts (the what-if planner estimates its makespan with them).
    const concurrency = evacuationConcurrency(ctx.config, wanted.length, reserved);
    const perTarget = new Slots(concurrency.perTarget);
    const watch = ctx.compute.observeServers ? new EvacuationWatch(ctx, failedHost) : undefined;
    const run: EvacuationRun = { ctx, failedHost, reserved, checkpoint, latest, perTarget, watch };

    // A fixed pool of workers pulling from the ordered list keeps HA-enabled and high-priority instances first.
    let next = 0;
    const workers = concurrency.workers;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < wanted.length) await evacuateOne(run, wanted[next++]!);
      }),
    );
    await reportOutcome(run, wanted);
  },
};
