// The recovery engine's public surface, for the roles (wiring), the API (notificationAccepted) and the simulator.
export { createEngine, type Engine, type EngineDeps, type EngineObserver, type ProcessMode, type ProcessResult } from './engine.ts';
export { fencerGate, firstEvidence, withTimeout } from './fence-gate.ts';
export { resolveFlows, BUILTIN_TASKS, TaskConfigError, type ResolvedFlows } from './registry.ts';
export type { RecoveryTask, TaskContext, FlowValues } from './task.ts';
export { SkipRecovery, IgnoreRecovery, RecoveryFailure, ReservedHostsUnavailable, FencingFailed, MissingTaskInput } from './errors.ts';
export { RECOVERABLE_VM_EVENTS, isRecoverableVmEvent, failureEvent, type FailureEvent } from './event.ts';
