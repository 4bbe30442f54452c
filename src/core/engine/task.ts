// The task interface: what a built-in or custom recovery task implements (documented in docs/workflows.md).
// A task is one named step of a workflow. It reads the flow's values, talks to the backend through the ports,
// reports progress (shown by API 1.1 as recovery_workflow_details) and returns values for the tasks after it.
// The runner persists its start, every progress line, its checkpoint and its completion, so a task must be
// idempotent: after a crash it is run again from the start with its last checkpoint, and must look at the current
// state of the cloud before acting.

import type { Config } from '../config/schema.ts';
import type { Notification } from '../domain/model.ts';
import type { Env } from '../env.ts';
import type { Logger } from '../log.ts';
import type { ComputeDriver } from '../ports/compute.ts';
import type { FenceGate } from '../ports/fence.ts';
import type { Store } from '../store/types.ts';
import type { EngineMetrics } from '../observe/metric-set.ts';

/** Values flowing between tasks (taskflow's "store"): host_name, notification_uuid, instance_list, reserved_host... */
export type FlowValues = Record<string, unknown>;

export interface TaskContext {
  readonly notification: Notification;
  /** Inputs from the dispatcher and outputs of earlier tasks. */
  readonly values: Readonly<FlowValues>;
  /**
   * A flow value the task cannot work without, as text: throws MissingTaskInput (TASK_INPUT_MISSING) when it is
   * absent, null or empty, instead of the task working on ''. Declare it in RecoveryTask.inputs too.
   */
  input(name: string): string;
  readonly compute: ComputeDriver;
  readonly store: Store;
  readonly env: Env;
  readonly config: Config;
  readonly log: Logger;
  /** Aborted when the controller stops or loses its lease: pass it to every wait. */
  readonly signal: AbortSignal;
  readonly fenceGate: FenceGate | undefined;
  /** Where built-in tasks record phase durations and fence attempts (absent: metrics off). */
  readonly metrics?: EngineMetrics;
  /** Adds a progress detail (Masakari's update_details); persisted before it resolves. */
  update(message: string, progress?: number): Promise<void>;
  /** The checkpoint saved by an earlier, interrupted execution of this same task (undefined on a first run). */
  readonly checkpoint: unknown;
  /** Checkpoints of earlier executions of the same task in this run (e.g. before a *_priority fallback). */
  readonly earlierCheckpoints: unknown[];
  /** Persists scratch state that a resumed execution will get back as `checkpoint`. */
  saveCheckpoint(data: unknown): Promise<void>;
}

export interface RecoveryTask {
  /** The name API 1.1 shows (Masakari's class name, e.g. "DisableComputeServiceTask"). */
  readonly displayName: string;
  /**
   * Flow values the task needs (e.g. 'host_name'). The runner checks them before execute(): a missing one fails the
   * task, and so the workflow, with MissingTaskInput naming task and value. Optional values are not listed.
   */
  readonly inputs?: readonly string[];
  /**
   * Does the work. Throw SkipRecovery / IgnoreRecovery / RecoveryFailure (src/core/engine/errors.ts) to end the
   * workflow; any other error ends it in `error`. Returned values are merged into the flow values.
   */
  execute(ctx: TaskContext): Promise<FlowValues | void>;
}
