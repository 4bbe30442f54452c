// Capacity bookkeeping for the what-if plan: each host's free resources, whether a server fits, and taking its room.
// Pure: the planner fills it from the compute port and asks it questions.

import type { HostCapacity, Resources } from '../../ports/compute.ts';
import type { ResourceView } from './types.ts';

/** A host that can receive evacuated servers, as the plan sees it. */
export interface PoolHost {
  name: string;
  /** Free now; null when the backend could not say (the plan then assumes room, with a warning). */
  free: Resources | null;
  readonly before: Resources | null;
  /** Enabled and up, not on maintenance: the scheduler may choose it. */
  schedulable: boolean;
}

export function freeOf(c: HostCapacity): Resources {
  return {
    vcpus: c.total.vcpus - c.used.vcpus,
    ramMb: c.total.ramMb - c.used.ramMb,
    diskGb: c.total.diskGb === null ? null : c.total.diskGb - (c.used.diskGb ?? 0),
  };
}

/** Does `need` fit in `free`? Unknown free room or unknown size: assumed to fit (the caller warns). */
export function fits(free: Resources | null, need: Resources | undefined): boolean {
  if (!free || !need) return true;
  const diskOk = free.diskGb === null || need.diskGb === null || need.diskGb <= free.diskGb;
  return need.vcpus <= free.vcpus && need.ramMb <= free.ramMb && diskOk;
}

export function take(h: PoolHost, need: Resources | undefined): void {
  if (!h.free || !need) return;
  h.free = {
    vcpus: h.free.vcpus - need.vcpus,
    ramMb: h.free.ramMb - need.ramMb,
    diskGb: h.free.diskGb === null ? null : h.free.diskGb - (need.diskGb ?? 0),
  };
}

/** Hosts where `need` fits, in the scheduler's preference: most free RAM first (Nova's default weigher), then name. */
export function candidatesFor(pool: PoolHost[], need: Resources | undefined): PoolHost[] {
  const ram = (h: PoolHost) => h.free?.ramMb ?? Number.MAX_SAFE_INTEGER;
  return pool.filter((h) => h.schedulable && fits(h.free, need)).sort((a, b) => ram(b) - ram(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function view(r: Resources | null): ResourceView {
  return r ? { vcpus: r.vcpus, ram_mb: r.ramMb, disk_gb: r.diskGb } : { vcpus: null, ram_mb: null, disk_gb: null };
}

export function describe(r: Resources | undefined): string {
  if (!r) return 'an unknown size';
  return `${r.vcpus} vCPU, ${r.ramMb} MB RAM${r.diskGb === null ? '' : `, ${r.diskGb} GB disk`}`;
}
