// The decisions of a host recovery that do not need the cloud to act: which flows a recovery method runs and in
// which order, which reserved hosts a run may use, which instances it evacuates and in what order, when a reserved
// host is not used, and how many evacuations run at once. The real run (workflows/host.ts, dispatch.ts,
// tasks/host.ts, tasks/evacuate.ts) and the what-if dry run (src/core/protection/whatif/) both call these
// functions, so a changed rule changes both: there is no second copy of the rules.

import type { Config } from '../config/schema.ts';
import type { Host, RecoveryMethod } from '../domain/model.ts';
import type { ComputeService, ServerInfo } from '../ports/compute.ts';
import { boolFromString } from './tasks/util.ts';

/** One of Masakari's two host flows. */
export type HostFlowKind = 'auto' | 'reserved_host';

/** The flows a recovery method runs, in order: each after the one before it failed (the *_priority fallbacks). */
export function recoveryFlowOrder(method: RecoveryMethod): HostFlowKind[] {
  switch (method) {
    case 'auto':
      return ['auto'];
    case 'reserved_host':
      return ['reserved_host'];
    case 'auto_priority':
      return ['auto', 'reserved_host'];
    case 'rh_priority':
      return ['reserved_host', 'auto'];
  }
}

/** The reserved hosts a recovery of `failedHost` may use, in the segment's order: reserved, not on maintenance. */
export function reservedHostsForRecovery(method: RecoveryMethod, segmentHosts: Host[], failedHost: string): string[] {
  if (!recoveryFlowOrder(method).includes('reserved_host')) return [];
  return segmentHosts.filter((h) => h.reserved && !h.onMaintenance && h.name !== failedHost).map((h) => h.name);
}

/** Why a reserved host is skipped for the next one (its compute service does not report), or null when usable. */
export function reservedHostUnusable(service: ComputeService): string | null {
  return service.state === 'down' ? `Reserved host '${service.host}' is down (its compute service does not report): not used` : null;
}

/** Why an instance of the failed host is not evacuated. */
export type NotEvacuatedReason = 'error_state' | 'not_ha_enabled';

export interface InstanceSelection {
  /** To evacuate, in order: HA-enabled first, then by the priority key (higher first), then the backend's order. */
  chosen: ServerInfo[];
  haEnabled: ServerInfo[];
  /** Not HA-enabled and not in error (or in error while error instances are not ignored). */
  notHaEnabled: ServerInfo[];
  skipped: { server: ServerInfo; reason: NotEvacuatedReason; haEnabled: boolean }[];
}

function priorityOf(s: ServerInfo, key: string | null): number {
  if (!key) return 0;
  const n = Number(s.metadata[key]);
  return Number.isFinite(n) ? n : 0;
}

/** Masakari's choice of the instances to evacuate (HA_Enabled, evacuate_all_instances, error state), ordered. */
export function selectInstancesForEvacuation(servers: ServerInfo[], cfg: Config['host_failure']): InstanceSelection {
  const haEnabled: ServerInfo[] = [];
  const notHaEnabled: ServerInfo[] = [];
  const skipped: InstanceSelection['skipped'] = [];
  for (const s of servers) {
    const isHa = boolFromString(s.metadata[cfg.ha_enabled_instance_metadata_key]);
    if (cfg.ignore_instances_in_error_state && s.vmState === 'error') {
      skipped.push({ server: s, reason: 'error_state', haEnabled: isHa });
      continue;
    }
    (isHa ? haEnabled : notHaEnabled).push(s);
  }
  // Sort is stable, so the backend's order breaks ties.
  const byPriority = (a: ServerInfo, b: ServerInfo) => priorityOf(b, cfg.priority_metadata_key) - priorityOf(a, cfg.priority_metadata_key);
  let chosen = [...haEnabled].sort(byPriority);
  if (cfg.evacuate_all_instances) chosen = chosen.concat([...notHaEnabled].sort(byPriority));
  else for (const s of notHaEnabled) skipped.push({ server: s, reason: 'not_ha_enabled', haEnabled: false });
  return { chosen, haEnabled, notHaEnabled, skipped };
}

/** How many evacuations of one failed host run at once, and how many of them towards one known target host. */
export interface EvacuationConcurrency {
  workers: number;
  /** 0: no cap (the scheduler spreads the instances). */
  perTarget: number;
}

export function evacuationConcurrency(config: Config, instances: number, reservedHost: string | undefined): EvacuationConcurrency {
  return {
    workers: Math.max(1, Math.min(config.engine.host_failure_recovery_threads, instances)),
    // The cap applies where the target is known in advance (the reserved host); the scheduler spreads the rest.
    perTarget: reservedHost ? config.host_failure.max_evacuations_per_target_host : 0,
  };
}
