// Runs the pre/main/post task lists of a flow through the runner, reverting (Masakari's REVERTED marks) on failure.

import type { FlowTasks } from '../registry.ts';
import type { FlowRunner } from '../runner.ts';
import type { FlowValues } from '../task.ts';

export async function runPhases(
  runner: FlowRunner,
  prefix: string,
  flow: FlowTasks,
  values: FlowValues,
  phases: ('pre' | 'main' | 'post')[] = ['pre', 'main', 'post'],
): Promise<FlowValues> {
  let v = values;
  for (const phase of phases) {
    const tasks = flow[phase];
    for (let i = 0; i < tasks.length; i++) v = await runner.step(`${prefix}.${phase}.${i}`, tasks[i]!, v);
  }
  return v;
}

/** Runs `body` as one flow: on any failure its tasks are marked REVERTED, then the error goes on. */
export async function asFlow<T>(runner: FlowRunner, body: () => Promise<T>): Promise<T> {
  runner.beginFlow();
  try {
    const out = await body();
    runner.endFlow();
    return out;
  } catch (e) {
    if (runner.aborted) runner.endFlow();
    else await runner.revert();
    throw e;
  }
}
