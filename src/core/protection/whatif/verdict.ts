// The what-if planner as the protection report's capacity verdict (N+1 per segment, and per host the instances that
// would not find a place). The report is evaluated every few seconds to notice silent agents; running the planner
// for every host of every segment that often would load Nova (or the libvirt hosts) for nothing, so a segment's
// verdict is kept for `ttlMs` and concurrent asks share one computation.

import type { Host, Segment } from '../../domain/model.ts';
import type { Env } from '../../env.ts';
import type { CapacityVerdictProvider, SegmentCapacityVerdict } from '../capacity.ts';
import { REASONS, type WhatIfDeps } from './plan.ts';
import { segmentSurvivesAnyHostLoss, unrecoveredWanted } from './segment.ts';

/** Reasons that are about room (the report names the others itself: segment disabled, maintenance, no fencer). */
const CAPACITY_REASONS = [REASONS.noCapacity, REASONS.noReservedHost];

export const DEFAULT_VERDICT_TTL_MS = 60_000;

export class WhatIfCapacityVerdict implements CapacityVerdictProvider {
  private readonly cache = new Map<string, { key: string; at: number; verdict: Promise<SegmentCapacityVerdict> }>();

  constructor(
    private readonly d: WhatIfDeps,
    private readonly env: Pick<Env, 'nowMs'>,
    private readonly ttlMs = DEFAULT_VERDICT_TTL_MS,
  ) {}

  segmentVerdict(segment: Segment, hosts: Host[]): Promise<SegmentCapacityVerdict> {
    // A change of the segment's hosts or flags invalidates the cached verdict at once.
    const key = JSON.stringify([segment.enabled, segment.recoveryMethod, hosts.map((h) => [h.name, h.reserved, h.onMaintenance])]);
    const hit = this.cache.get(segment.uuid);
    const now = this.env.nowMs();
    if (hit && hit.key === key && now - hit.at < this.ttlMs) return hit.verdict;
    const verdict = this.compute(segment);
    this.cache.set(segment.uuid, { key, at: now, verdict });
    // A failed computation is not kept: the next report asks again.
    verdict.catch(() => this.cache.delete(segment.uuid));
    return verdict;
  }

  private async compute(segment: Segment): Promise<SegmentCapacityVerdict> {
    const survival = await segmentSurvivesAnyHostLoss(this.d, segment);
    const hostReasons: Record<string, string[]> = {};
    const breaking: string[] = [];
    for (const plan of survival.plans) {
      const lost = unrecoveredWanted(plan).filter((i) => CAPACITY_REASONS.some((r) => i.reason?.startsWith(r)));
      if (lost.length === 0) continue;
      breaking.push(plan.host);
      const short = plan.shortfall ? ` (short ${describeShortfall(plan.shortfall)})` : '';
      hostReasons[plan.host] = [`${lost.length} instance(s) would not fit if this host failed${short}: see masakari whatif --lose ${plan.host}`];
    }
    return { n_plus_one: breaking.length === 0, breaking_hosts: breaking, host_reasons: hostReasons, reasons: [] };
  }
}

function describeShortfall(s: { vcpus: number | null; ram_mb: number | null; disk_gb: number | null }): string {
  const parts = [s.vcpus ? `${s.vcpus} vCPU` : null, s.ram_mb ? `${s.ram_mb} MB RAM` : null, s.disk_gb ? `${s.disk_gb} GB disk` : null].filter(Boolean);
  return parts.length ? parts.join(', ') : 'room';
}
