// Host-failure guards around Masakari's flows, called by the engine before dispatch (one hook line in engine.ts):
//  - mass-failure.ts: a STOPPED host failure that would be evacuated is paused when too much of its segment failed;
//  - host-return.ts: a STARTED host may be taken out of maintenance.
// Returns the outcome that replaces the dispatch, or null to dispatch as usual.

import type { Host, Notification, Segment } from '../../domain/model.ts';
import type { FailureEvent } from '../event.ts';
import type { FlowRunner } from '../runner.ts';
import { hostReturned } from './host-return.ts';
import { massFailureGuard, type GuardDeps, type GuardOutcome } from './mass-failure.ts';

export async function hostGuards(
  d: GuardDeps,
  n: Notification,
  ev: FailureEvent,
  host: Host,
  segment: Segment,
  runner: FlowRunner,
): Promise<GuardOutcome | null> {
  if (ev.type !== 'COMPUTE_HOST' || ev.hostStatus !== 'NORMAL') return null;
  if (ev.event === 'STOPPED') return massFailureGuard(d, runner, n, host, segment);
  if (ev.event === 'STARTED') await hostReturned(d, n, host);
  return null;
}
