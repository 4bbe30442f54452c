// The instance-failure workflow (VM events that warrant recovery): stop, start, confirm active.

import type { ResolvedFlows } from '../registry.ts';
import type { FlowRunner } from '../runner.ts';
import type { FlowValues } from '../task.ts';
import { asFlow, runPhases } from './run.ts';

// Which VM events warrant one: event.ts (isRecoverableVmEvent).

export async function runInstanceFlow(runner: FlowRunner, flows: ResolvedFlows, values: FlowValues): Promise<void> {
  await asFlow(runner, () => runPhases(runner, 'instance', flows.instance, values));
}
