// How a workflow ends when it does not simply succeed. Each class maps to one final notification status,
// the way Masakari's exceptions do (SkipHostRecovery -> finished, IgnoreInstanceRecovery -> ignored, ... -> error).
// Each extends AppError with a stable code; the ending is still decided by class or `name` (outcomeKind).

import { AppError } from '../errors.ts';

/** Nothing to do: the notification ends `finished` (Masakari's Skip*RecoveryException). */
export class SkipRecovery extends AppError {
  readonly code: string = 'RECOVERY_SKIPPED';
}

/** Recovery does not apply: the notification ends `ignored` (IgnoreInstanceRecoveryException). */
export class IgnoreRecovery extends AppError {
  readonly code: string = 'RECOVERY_IGNORED';
}

/** Recovery was tried and failed: the notification ends `error` (retried once by the periodic job). */
export class RecoveryFailure extends AppError {
  readonly code: string = 'RECOVERY_FAILED';
}

/** The reserved_host flow has no reserved host to use ("No reserved_hosts available for evacuation."). */
export class ReservedHostsUnavailable extends RecoveryFailure {
  override readonly code: string = 'RESERVED_HOSTS_UNAVAILABLE';
}

/** No evidence that the failed host is fenced: nothing may be evacuated; no fallback flow may run either. */
export class FencingFailed extends RecoveryFailure {
  override readonly code: string = 'FENCING_FAILED';
}

/** The workflow stopped because this controller is stopping or lost its lease: no final status is written. */
export class WorkflowAborted extends AppError {
  readonly code: string = 'WORKFLOW_ABORTED';
}

/**
 * How an error ends a workflow, by class or by `name` (a custom task module outside the bundle cannot import these
 * classes: it throws an Error whose name is 'SkipRecovery', 'IgnoreRecovery' or 'RecoveryFailure').
 */
export function outcomeKind(e: unknown): 'skip' | 'ignore' | 'failure' | 'other' {
  if (e instanceof SkipRecovery || (e instanceof Error && e.name === 'SkipRecovery')) return 'skip';
  if (e instanceof IgnoreRecovery || (e instanceof Error && e.name === 'IgnoreRecovery')) return 'ignore';
  if (e instanceof RecoveryFailure || (e instanceof Error && e.name === 'RecoveryFailure')) return 'failure';
  return 'other';
}

export const isAbort = (e: unknown): boolean => e instanceof WorkflowAborted || (e instanceof Error && e.name === 'AbortError');

/**
 * A task ran without an input it declares (RecoveryTask.inputs): no earlier task and no dispatcher value provided
 * it, usually a custom task list that left out the task producing it. Ends the workflow in `error`, naming the task
 * and the input, instead of the task working on an empty value.
 */
export class MissingTaskInput extends AppError {
  readonly code = 'TASK_INPUT_MISSING';
  constructor(
    readonly task: string,
    readonly input: string,
  ) {
    super(`Task '${task}' needs the flow value '${input}', which no earlier task of the workflow provided`);
  }
}
