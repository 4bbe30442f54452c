// How a workflow ends when it does not simply succeed. Each class maps to one final notification status,
// the way Masakari's exceptions do (SkipHostRecovery -> finished, IgnoreInstanceRecovery -> ignored, ... -> error).

/** Nothing to do: the notification ends `finished` (Masakari's Skip*RecoveryException). */
export class SkipRecovery extends Error {
  override name = 'SkipRecovery';
}

/** Recovery does not apply: the notification ends `ignored` (IgnoreInstanceRecoveryException). */
export class IgnoreRecovery extends Error {
  override name = 'IgnoreRecovery';
}

/** Recovery was tried and failed: the notification ends `error` (retried once by the periodic job). */
export class RecoveryFailure extends Error {
  override name = 'RecoveryFailure';
}

/** The reserved_host flow has no reserved host to use ("No reserved_hosts available for evacuation."). */
export class ReservedHostsUnavailable extends RecoveryFailure {
  override name = 'ReservedHostsUnavailable';
}

/** No evidence that the failed host is fenced: nothing may be evacuated; no fallback flow may run either. */
export class FencingFailed extends RecoveryFailure {
  override name = 'FencingFailed';
}

/** The workflow stopped because this controller is stopping or lost its lease: no final status is written. */
export class WorkflowAborted extends Error {
  override name = 'WorkflowAborted';
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

export const isAbort = (e: unknown): boolean =>
  e instanceof WorkflowAborted || (e instanceof Error && e.name === 'AbortError');
