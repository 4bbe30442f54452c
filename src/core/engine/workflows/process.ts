// The process-failure workflow (PROCESS STOPPED): only nova-compute has one; any other process is "finished".

import { SkipRecovery } from '../errors.ts';
import type { ResolvedFlows } from '../registry.ts';
import type { FlowRunner } from '../runner.ts';
import type { FlowValues } from '../task.ts';
import { asFlow, runPhases } from './run.ts';

export async function runProcessFlow(runner: FlowRunner, flows: ResolvedFlows, values: FlowValues): Promise<void> {
  if (values.process_name !== 'nova-compute') {
    throw new SkipRecovery(`Skipping recovery for process ${String(values.process_name)}: only nova-compute has a recovery flow`);
  }
  await asFlow(runner, () => runPhases(runner, 'process', flows.process, values));
}
