// The task runner: runs a workflow's tasks one after another and persists each one's start, progress, checkpoint
// and completion in the store before the next starts. A record is tagged with the run (the notification's attempt)
// and a step key; when a crashed run is resumed, completed steps are skipped and their saved outputs restored, and
// an interrupted step runs again with its checkpoint. A retry after `error` is a new run: Masakari appends the
// retried tasks to the same list, and so do we.

import type { TaskState, WorkflowTaskRecord } from '../domain/model.ts';
import type { FlowValues, RecoveryTask, TaskContext } from './task.ts';
import { MissingTaskInput, WorkflowAborted } from './errors.ts';
import { NO_CONTROLLER_METRICS, type EngineMetrics } from '../observe/metric-set.ts';
import { secondsSince } from '../observe/metrics.ts';

interface StoredResult {
  run: number;
  key: string;
  /** Facts fixed at the start of the run (e.g. the reserved host list), shared by all its records. */
  meta?: Record<string, unknown>;
  output?: FlowValues;
  checkpoint?: unknown;
}

const asResult = (r: unknown): StoredResult | undefined =>
  typeof r === 'object' && r !== null && typeof (r as StoredResult).key === 'string' ? (r as StoredResult) : undefined;

export type TaskObserver = (notificationUuid: string, taskName: string, state: TaskState) => void;

export type ContextBase = Omit<TaskContext, 'values' | 'input' | 'update' | 'checkpoint' | 'earlierCheckpoints' | 'saveCheckpoint'>;

/** An input counts as missing when absent, null or empty text: none of the built-in inputs may be any of these. */
const isMissing = (v: unknown) => v === undefined || v === null || v === '';

/** The task's declared inputs that `values` lacks, first one thrown. */
function checkInputs(task: RecoveryTask, values: FlowValues): void {
  for (const name of task.inputs ?? []) if (isMissing(values[name])) throw new MissingTaskInput(task.displayName, name);
}

export class FlowRunner {
  private records: WorkflowTaskRecord[] = [];
  /** The notification's last record when a crash left it RUNNING before it was tagged (appended, not yet updated). */
  private untagged: WorkflowTaskRecord | undefined;
  /** Records of each open (nested) flow, for Masakari's REVERTED marking. */
  private frames: number[][] = [[]];
  private get touched(): number[] {
    return this.frames[this.frames.length - 1]!;
  }
  meta: Record<string, unknown> = {};

  private constructor(
    private readonly base: ContextBase,
    readonly run: number,
    private readonly observer: TaskObserver,
  ) {}

  static async open(base: ContextBase, run: number, observer: TaskObserver): Promise<FlowRunner> {
    const r = new FlowRunner(base, run, observer);
    const all = await base.store.listTasks(base.notification.uuid);
    r.records = all.filter((t) => asResult(t.result)?.run === run);
    const last = all[all.length - 1];
    if (last && last.state === 'RUNNING' && !asResult(last.result)) r.untagged = last;
    for (const t of r.records) {
      const m = asResult(t.result)?.meta;
      if (m) r.meta = { ...m };
    }
    return r;
  }

  /** Where the workflows record what they measure (the no-op group when metrics are off). */
  get metrics(): EngineMetrics {
    return this.base.metrics ?? NO_CONTROLLER_METRICS;
  }

  /** The engine's clock in milliseconds (virtual in the simulator). */
  nowMs(): number {
    return this.base.env.nowMs();
  }

  /** True when this run already persisted something (we are resuming after a crash). */
  get resuming(): boolean {
    return this.records.length > 0;
  }

  get aborted(): boolean {
    return this.base.signal.aborted;
  }

  beginFlow(): void {
    this.frames.push([]);
  }

  /** The flow succeeded: its tasks belong to the enclosing flow now (reverted if that one fails). */
  endFlow(): void {
    const done = this.frames.length > 1 ? this.frames.pop()! : [];
    this.touched.push(...done);
  }

  private get uuid(): string {
    return this.base.notification.uuid;
  }

  private now(): Date {
    return this.base.env.now();
  }

  /** Runs one task (or restores its result when this run already completed it); returns the merged values. */
  async step(key: string, task: RecoveryTask, values: FlowValues, opts: { revertible?: boolean } = {}): Promise<FlowValues> {
    if (this.base.signal.aborted) throw new WorkflowAborted('aborted');
    const revertible = opts.revertible ?? true;
    let prior: WorkflowTaskRecord | undefined;
    for (const t of this.records) if (asResult(t.result)?.key === key) prior = t;
    if (prior && prior.state === 'SUCCESS') {
      if (revertible) this.touched.push(prior.seq);
      return { ...values, ...(asResult(prior.result)?.output ?? {}) };
    }
    let seq: number;
    let stored: StoredResult;
    if (prior && prior.state === 'RUNNING') {
      // Interrupted by a crash: run it again from its checkpoint, in the same record.
      seq = prior.seq;
      stored = asResult(prior.result)!;
      await this.base.store.updateTask(
        this.uuid,
        seq,
        { addDetail: { timestamp: this.now(), message: `Resuming '${task.displayName}' after the controller running it stopped`, progress: prior.progress } },
        this.now(),
      );
    } else {
      // A record appended just before a crash, for this very task, is adopted rather than left RUNNING forever.
      const adopt = this.untagged?.name === task.displayName ? this.untagged : undefined;
      this.untagged = undefined;
      seq = adopt ? adopt.seq : await this.base.store.appendTask(this.uuid, task.displayName, 'RUNNING', this.now());
      stored = { run: this.run, key, meta: this.meta };
      await this.base.store.updateTask(this.uuid, seq, { result: stored }, this.now());
      this.records.push({
        notificationUuid: this.uuid,
        seq,
        name: task.displayName,
        state: 'RUNNING',
        progress: 0,
        details: [],
        result: stored,
        updatedAt: this.now(),
      });
    }
    if (revertible) this.touched.push(seq);
    this.observer(this.uuid, task.displayName, 'RUNNING');
    let lastProgress = 0;
    const ctx: TaskContext = {
      ...this.base,
      values,
      input: (name) => {
        const v = values[name];
        if (isMissing(v)) throw new MissingTaskInput(task.displayName, name);
        // Inputs are names and uuids; a structured value is shown as JSON rather than "[object Object]".
        return typeof v === 'object' ? JSON.stringify(v) : (v as string | number | boolean | bigint).toString();
      },
      checkpoint: stored.checkpoint,
      earlierCheckpoints: this.records
        .filter((t) => t.seq !== seq && t.name === task.displayName && asResult(t.result)?.checkpoint !== undefined)
        .map((t) => asResult(t.result)!.checkpoint),
      update: async (message, progress = 0.0) => {
        lastProgress = progress;
        await this.base.store.updateTask(this.uuid, seq, { progress, addDetail: { timestamp: this.now(), message, progress } }, this.now());
      },
      saveCheckpoint: async (data) => {
        stored = { ...stored, checkpoint: data };
        const rec = this.records.find((t) => t.seq === seq);
        if (rec) rec.result = stored;
        await this.base.store.updateTask(this.uuid, seq, { result: stored }, this.now());
      },
    };
    let output: FlowValues | void;
    const startedMs = this.nowMs();
    try {
      checkInputs(task, values);
      output = await task.execute(ctx);
    } catch (e) {
      if (this.base.signal.aborted) throw new WorkflowAborted('aborted');
      this.metrics.taskDuration.observe(secondsSince(startedMs, this.nowMs()), { task: task.displayName, result: 'failure' });
      await this.setState(seq, 'FAILURE', Math.max(lastProgress, 1.0));
      if (!revertible) this.touched.push(seq);
      this.observer(this.uuid, task.displayName, 'FAILURE');
      throw e;
    }
    this.metrics.taskDuration.observe(secondsSince(startedMs, this.nowMs()), { task: task.displayName, result: 'success' });
    stored = { ...stored, output: output ?? {} };
    await this.base.store.updateTask(this.uuid, seq, { state: 'SUCCESS', progress: 1.0, result: stored }, this.now());
    const rec = this.records.find((t) => t.seq === seq)!;
    rec.state = 'SUCCESS';
    rec.result = stored;
    this.observer(this.uuid, task.displayName, 'SUCCESS');
    return { ...values, ...(output ?? {}) };
  }

  /** Masakari reverts a failed flow: every task it ran shows REVERTED afterwards. */
  async revert(): Promise<void> {
    const frame = this.frames.length > 1 ? this.frames.pop()! : this.frames.splice(0, 1, [])[0]!;
    for (const seq of frame) await this.setState(seq, 'REVERTED', 1.0);
  }

  private async setState(seq: number, state: TaskState, progress: number): Promise<void> {
    await this.base.store.updateTask(this.uuid, seq, { state, progress }, this.now());
    const rec = this.records.find((t) => t.seq === seq);
    if (rec) rec.state = state;
  }
}
