// The instance-failure workflow (VM events that warrant recovery): stop, start, confirm active.

import type { ResolvedFlows } from '../registry.ts';
import type { FlowRunner } from '../runner.ts';
import type { FlowValues } from '../task.ts';
import { asFlow, runPhases } from './run.ts';

/** Masakari's instance_events: the only (event, vir_domain_event) pairs that start a recovery. */
export const RECOVERABLE_VM_EVENTS: Record<string, string[]> = {
  LIFECYCLE: ['STOPPED_FAILED'],
  QEMU_GUEST_AGENT_ERROR: ['STOPPED_FAILED'],
  IO_ERROR: ['IO_ERROR_REPORT'],
};

export function isRecoverableVmEvent(payload: Record<string, unknown>): boolean {
  const ev = typeof payload.event === 'string' ? payload.event.toUpperCase() : '';
  const dom = typeof payload.vir_domain_event === 'string' ? payload.vir_domain_event.toUpperCase() : '';
  return (RECOVERABLE_VM_EVENTS[ev] ?? []).includes(dom);
}

export async function runInstanceFlow(runner: FlowRunner, flows: ResolvedFlows, values: FlowValues): Promise<void> {
  await asFlow(runner, () => runPhases(runner, 'instance', flows.instance, values));
}
