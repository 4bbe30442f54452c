// The instance-failure workflow (VM events that warrant recovery): stop, start, confirm active.

import type { ResolvedFlows } from '../registry.ts';
import type { FlowRunner } from '../runner.ts';
import type { FlowValues } from '../task.ts';
import { asFlow, runPhases } from './run.ts';
import { secondsSince } from '../../observe/metrics.ts';
import { IgnoreRecovery, SkipRecovery } from '../errors.ts';

// Which VM events warrant one: event.ts (isRecoverableVmEvent).

export async function runInstanceFlow(runner: FlowRunner, flows: ResolvedFlows, values: FlowValues): Promise<void> {
  // One instance's restart, measured whole (stop, start, confirm); an abort (controller stopping) is not a result.
  const m = runner.metrics;
  const startedMs = runner.nowMs();
  let result = 'failure';
  m.instancesInFlight.inc({ action: 'restart' });
  try {
    await asFlow(runner, () => runPhases(runner, 'instance', flows.instance, values));
    result = 'success';
  } catch (e) {
    // Not HA-enabled, paused, rescued...: no restart happened, and none failed.
    result = e instanceof SkipRecovery ? 'skipped' : e instanceof IgnoreRecovery ? 'ignored' : 'failure';
    throw e;
  } finally {
    m.instancesInFlight.dec({ action: 'restart' });
    if (!runner.aborted) m.instanceRestartDuration.observe(secondsSince(startedMs, runner.nowMs()), { result });
  }
}
