// segmentSurvivesAnyHostLoss: the what-if for every host of a segment. N+1 holds when, whichever one host fails,
// every instance the engine would recover finds a place; the hosts whose loss breaks it are named with the reason.
// Instances the rules leave alone on purpose (not HA-enabled, in error) do not break it.

import { notFound } from '../../domain/errors.ts';
import type { Segment } from '../../domain/model.ts';
import { planHostLoss, type WhatIfDeps } from './plan.ts';
import type { SegmentSurvival, WhatIfPlan } from './types.ts';
import { REASONS } from './plan.ts';

/** Instances the engine would try to recover but that find no place (capacity, no reserved host, blocked). */
export function unrecoveredWanted(plan: WhatIfPlan) {
  const onPurpose = [REASONS.notHaEnabled, REASONS.errorState];
  return plan.instances.filter((i) => !i.recovered && !onPurpose.some((r) => i.reason?.startsWith(r)));
}

export async function segmentSurvivesAnyHostLoss(d: WhatIfDeps, segment: Segment): Promise<SegmentSurvival> {
  const hosts = await d.store.listHostsOfSegment(segment.uuid);
  const plans: WhatIfPlan[] = [];
  const breaking: string[] = [];
  const reasons: string[] = [];
  for (const h of hosts) {
    const plan = await planHostLoss(d, h.name);
    plans.push(plan);
    const lost = unrecoveredWanted(plan);
    if (lost.length === 0) continue;
    breaking.push(h.name);
    const why = [...new Set(lost.map((i) => i.reason!.split(':')[0]))].join(', ');
    reasons.push(`losing ${h.name} leaves ${lost.length} instance(s) unrecovered (${why})`);
  }
  return { segment: segment.name, segment_uuid: segment.uuid, n_plus_one: breaking.length === 0, breaking_hosts: breaking, reasons, plans };
}

/** By name or uuid, for callers that take what a user typed. */
export async function findSegment(d: Pick<WhatIfDeps, 'store'>, nameOrUuid: string): Promise<Segment> {
  const direct = await d.store.getSegment(nameOrUuid);
  if (direct) return direct;
  const all = await d.store.listSegments({ filters: {}, sort: [{ key: 'created_at', dir: 'asc' }], limit: 10000 });
  const byName = all.find((s) => s.name === nameOrUuid);
  if (!byName) throw notFound(`Failover segment ${nameOrUuid} could not be found.`);
  return byName;
}
