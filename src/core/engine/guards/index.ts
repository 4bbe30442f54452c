// Host-failure guards around Masakari's flows, called by the engine before dispatch (one hook line in engine.ts):
//  - mass-failure.ts: a STOPPED host failure that would be evacuated is paused when too much of its segment failed;
//  - host-return.ts: a STARTED host may be taken out of maintenance.
// Returns the outcome that replaces the dispatch, or null to dispatch as usual.

import type { Host, Notification, Segment } from '../../domain/model.ts';
import type { FlowRunner } from '../runner.ts';
import { hostReturned } from './host-return.ts';
import { massFailureGuard, type GuardDeps, type GuardOutcome } from './mass-failure.ts';

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : undefined);

export async function hostGuards(d: GuardDeps, n: Notification, host: Host, segment: Segment, runner: FlowRunner): Promise<GuardOutcome | null> {
  if (n.type !== 'COMPUTE_HOST' || upper(n.payload.host_status) !== 'NORMAL') return null;
  const event = upper(n.payload.event);
  if (event === 'STOPPED') return massFailureGuard(d, runner, n, host, segment);
  if (event === 'STARTED') await hostReturned(d, n, host);
  return null;
}
