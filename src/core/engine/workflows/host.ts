// The host-failure workflow (COMPUTE_HOST STOPPED): fencing gate, then Masakari's auto or reserved-host flow by the
// segment's recovery method, with the *_priority fallbacks.

import type { RecoveryMethod } from '../../domain/model.ts';
import { FencingFailed, ReservedHostsUnavailable, isAbort, outcomeKind } from '../errors.ts';
import type { ResolvedFlows } from '../registry.ts';
import type { FlowRunner } from '../runner.ts';
import type { FlowValues } from '../task.ts';
import { fenceHostTask } from '../tasks/host.ts';
import { asFlow, runPhases } from './run.ts';
import { recoveryFlowOrder, type HostFlowKind } from '../rules.ts';
import type { Logger } from '../../log.ts';
import { errorMessage } from '../../errors.ts';

export interface HostFlowInput {
  hostName: string;
  method: RecoveryMethod;
  /** Reserved, not-on-maintenance hosts of the segment, fixed when the run started. */
  reservedHosts: string[];
}

/** Errors after which the other flow of a *_priority method must not run. */
const final = (e: unknown) => outcomeKind(e) === 'skip' || e instanceof FencingFailed || isAbort(e);

export async function runHostFlow(runner: FlowRunner, flows: ResolvedFlows, input: HostFlowInput, log: Logger, values: FlowValues): Promise<void> {
  // The gate runs once per run, outside the revertible flows: a fallback flow reuses its evidence.
  const gate = () => runner.step('host.fence', fenceHostTask, values, { revertible: false });

  const auto = () =>
    asFlow(runner, async () => {
      const v = await gate();
      await runPhases(runner, 'auto', flows.hostAuto, v);
    });

  const rh = async () => {
    if (input.reservedHosts.length === 0) throw new ReservedHostsUnavailable('No reserved_hosts available for evacuation.');
    await asFlow(runner, async () => {
      let v = await gate();
      v = await runPhases(runner, 'rh', flows.hostRh, v, ['pre']);
      // Masakari's ParameterizedForEach over reserved_host_list: the main tasks are tried with each reserved host.
      let lastError: unknown;
      let done = false;
      for (let j = 0; j < input.reservedHosts.length && !done; j++) {
        try {
          await asFlow(runner, () => runPhases(runner, `rh.${j}`, flows.hostRh, { ...v, reserved_host: input.reservedHosts[j] }, ['main']));
          done = true;
        } catch (e) {
          if (final(e)) throw e;
          lastError = e;
          log.warn(
            { host: input.hostName, reserved_host: input.reservedHosts[j], err: errorMessage(e) },
            'evacuation to reserved host failed, trying the next one',
          );
        }
      }
      if (!done) throw lastError;
      await runPhases(runner, 'rh', flows.hostRh, v, ['post']);
    });
  };

  // The order of the flows (and so the *_priority fallbacks) comes from rules.ts, shared with the what-if planner.
  const order = recoveryFlowOrder(input.method);
  const runFlow = (kind: HostFlowKind) => (kind === 'auto' ? auto() : rh());
  const describe = (kind: HostFlowKind, next: HostFlowKind) =>
    kind === 'auto' ? `'auto' workflow, retrying using '${next}' workflow.` : `'reserved_host' workflow, retrying using '${next}' workflow`;
  for (let i = 0; ; i++) {
    const kind = order[i]!;
    try {
      return await runFlow(kind);
    } catch (e) {
      const next = order[i + 1];
      if (final(e) || next === undefined) throw e;
      log.warn(
        { host: input.hostName, err: errorMessage(e) },
        `Failed to evacuate all instances from failed_host '${input.hostName}' using ${describe(kind, next)}`,
      );
    }
  }
}
