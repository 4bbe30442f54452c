// planHostLoss: what the engine would do if `host` failed now, as a dry run of its own rules (engine/rules.ts: the
// recovery method's flows and their order, the reserved hosts a run may use and when one is skipped, the
// HA_Enabled / evacuate_all_instances / error-state choice and its priority order, the workers and the per-target
// cap), against the backend's capacity (ComputeDriver.hostCapacity). Nothing is changed anywhere: it only reads.
//
// Placement model (docs/protection.md, "What-if"): the auto flow's scheduler takes, for each instance in the
// engine's order, the enabled, up host of the segment with room and the most free RAM (Nova's default weigher; the
// libvirt driver and the simulator choose the same way); a reserved_host flow fills its reserved hosts in order, an
// instance that does not fit going to the next one, as the real flow retries the next reserved host with what is
// left on the failed host. A reserved host the flow enabled is schedulable for a later auto flow.

import type { Config } from '../../config/schema.ts';
import { notFound } from '../../domain/errors.ts';
import type { Host, Segment } from '../../domain/model.ts';
import { recoveryFlowOrder, reservedHostsForRecovery, reservedHostUnusable, selectInstancesForEvacuation } from '../../engine/rules.ts';
import { errorMessage } from '../../errors.ts';
import type { ComputeDriver, ComputeService, Resources, ServerInfo } from '../../ports/compute.ts';
import type { Store } from '../../store/types.ts';
import { measuredEvacuationTime, stageSeconds, type PlannedStage } from './makespan.ts';
import { candidatesFor, describe, fits, freeOf, take, view, type PoolHost } from './placement.ts';
import type { WhatIfInstance, WhatIfPlan } from './types.ts';

export interface WhatIfDeps {
  store: Store;
  compute: ComputeDriver;
  config: Config;
  /** Whether the engine has a fence gate (a fencer or the cluster's evidence); with fencing_required, none stops recovery. */
  fencingConfigured: boolean;
}

/** The stable start of each reason (tests and scripts may match on it). */
export const REASONS = {
  notHaEnabled: 'not HA-enabled',
  errorState: 'in error state',
  noReservedHost: 'no reserved host',
  noCapacity: 'no capacity',
  segmentDisabled: 'segment disabled',
  onMaintenance: 'host on maintenance',
  noFencing: 'no fencing',
} as const;

interface Placed {
  target: string | null;
  candidates: string[];
}

async function serviceOf(compute: ComputeDriver, host: string): Promise<ComputeService | null> {
  try {
    return await compute.getComputeService(host);
  } catch {
    return null;
  }
}

/** The segment's other hosts with their free room and whether the scheduler may use them. */
async function buildPool(d: WhatIfDeps, segmentHosts: Host[], failed: string, warnings: string[]): Promise<Map<string, PoolHost>> {
  const pool = new Map<string, PoolHost>();
  for (const h of segmentHosts) {
    if (h.name === failed) continue;
    const svc = await serviceOf(d.compute, h.name);
    let free: Resources | null = null;
    try {
      free = freeOf(await d.compute.hostCapacity(h.name));
    } catch (e) {
      warnings.push(`capacity of ${h.name} unknown (${errorMessage(e)}): assumed to have room`);
    }
    const schedulable = !h.onMaintenance && svc?.status === 'enabled' && svc.state === 'up';
    pool.set(h.name, { name: h.name, free, before: free && { ...free }, schedulable });
  }
  return pool;
}

/** The instances every rule of the engine would leave alone, or null when the engine would try to recover. */
function blockedReason(d: WhatIfDeps, host: Host, segment: Segment): string | null {
  if (!segment.enabled) return `${REASONS.segmentDisabled}: segment '${segment.name}' is disabled, its notifications are ignored`;
  if (host.onMaintenance) return `${REASONS.onMaintenance}: a failure notification from '${host.name}' would be refused`;
  if (d.config.host_failure.fencing_required && !d.fencingConfigured) {
    return `${REASONS.noFencing}: host_failure.fencing_required is true and no fencer or cluster evidence is configured`;
  }
  return null;
}

export async function planHostLoss(d: WhatIfDeps, hostName: string): Promise<WhatIfPlan> {
  const host = await d.store.getHostByName(hostName);
  if (!host) throw notFound(`Host with name ${hostName} could not be found.`);
  const segment = await d.store.getSegment(host.segmentUuid);
  if (!segment) throw notFound(`Failover segment of host ${hostName} could not be found.`);
  const segmentHosts = await d.store.listHostsOfSegment(segment.uuid);
  const method = segment.recoveryMethod;
  const flows = recoveryFlowOrder(method);
  const warnings: string[] = [];

  const servers = await d.compute.listServersOnHost(host.name);
  const selection = selectInstancesForEvacuation(servers, d.config.host_failure);
  for (const s of selection.chosen) if (!s.resources) warnings.push(`size of instance ${s.id} unknown: assumed to fit anywhere`);
  const pool = await buildPool(d, segmentHosts, host.name, warnings);

  const placed = new Map<string, Placed>();
  const stages: PlannedStage[] = [];
  const blocked = blockedReason(d, host, segment);
  const reserved = reservedHostsForRecovery(method, segmentHosts, host.name);
  let remaining: ServerInfo[] = blocked ? [] : selection.chosen;
  let usableReserved = 0;

  for (const flow of flows) {
    if (remaining.length === 0) break;
    if (flow === 'auto') {
      let n = 0;
      for (const s of remaining) {
        const cands = candidatesFor([...pool.values()], s.resources);
        if (cands.length === 0) continue;
        take(cands[0]!, s.resources);
        placed.set(s.id, { target: null, candidates: cands.map((h) => h.name) });
        n++;
      }
      stages.push({ reservedHost: undefined, instances: n });
    } else {
      for (const rh of reserved) {
        if (remaining.every((s) => placed.has(s.id))) break;
        const svc = await serviceOf(d.compute, rh);
        const unusable = svc ? reservedHostUnusable(svc) : `Reserved host '${rh}': its compute service is unknown to the backend`;
        if (unusable) {
          warnings.push(unusable);
          continue;
        }
        const h = pool.get(rh)!;
        usableReserved++;
        let n = 0;
        for (const s of remaining) {
          if (placed.has(s.id) || !fits(h.free, s.resources)) continue;
          take(h, s.resources);
          placed.set(s.id, { target: rh, candidates: [rh] });
          n++;
        }
        // The flow enables the reserved host's compute service: a later auto flow may schedule onto it.
        h.schedulable = true;
        stages.push({ reservedHost: rh, instances: n });
      }
    }
    remaining = remaining.filter((s) => !placed.has(s.id));
  }

  const shortfall = { vcpus: 0, ram_mb: 0, disk_gb: 0 };
  let short = false;
  const instances: WhatIfInstance[] = servers.map((s) => {
    const base = { id: s.id, name: s.name };
    const skip = selection.skipped.find((k) => k.server.id === s.id);
    if (skip) {
      const reason =
        skip.reason === 'error_state'
          ? `${REASONS.errorState}: host_failure.ignore_instances_in_error_state is true`
          : `${REASONS.notHaEnabled}: ${d.config.host_failure.ha_enabled_instance_metadata_key} is not set and host_failure.evacuate_all_instances is false`;
      return { ...base, recovered: false, target: null, candidates: [], reason };
    }
    if (blocked) return { ...base, recovered: false, target: null, candidates: [], reason: blocked };
    const p = placed.get(s.id);
    if (p) return { ...base, recovered: true, target: p.target, candidates: p.candidates, reason: null };
    if (!flows.includes('auto') && usableReserved === 0) {
      return {
        ...base,
        recovered: false,
        target: null,
        candidates: [],
        reason: `${REASONS.noReservedHost}: segment '${segment.name}' has no usable reserved host`,
      };
    }
    short = true;
    shortfall.vcpus += s.resources?.vcpus ?? 0;
    shortfall.ram_mb += s.resources?.ramMb ?? 0;
    shortfall.disk_gb += s.resources?.diskGb ?? 0;
    const where = flows.includes('auto') ? 'no enabled, up host of the segment' : 'no usable reserved host';
    return { ...base, recovered: false, target: null, candidates: [], reason: `${REASONS.noCapacity}: ${where} has room for ${describe(s.resources)}` };
  });

  const time = await measuredEvacuationTime(d.store);
  const makespan = stages.reduce((sum, st) => sum + stageSeconds(d.config, st, time.seconds), 0);
  return {
    host: host.name,
    segment: segment.name,
    segment_uuid: segment.uuid,
    recovery_method: method,
    flows,
    instances,
    capacity: [...pool.values()].map((h) => ({ host: h.name, before: view(h.before), after: view(h.free) })),
    shortfall: short ? shortfall : null,
    estimated_makespan_seconds: Math.round(makespan * 10) / 10,
    makespan_basis: {
      evacuation_seconds: time.seconds,
      measured_evacuations: time.samples,
      workers: d.config.engine.host_failure_recovery_threads,
      max_evacuations_per_target_host: d.config.host_failure.max_evacuations_per_target_host,
    },
    warnings,
  };
}
