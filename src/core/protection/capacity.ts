// Where the protection report gets its capacity verdict (N+1: can the segment absorb the loss of any one host?).
// The what-if planner (src/core/protection/whatif/) provides it; the report works without one (n_plus_one: null).

import type { Host, Segment } from '../domain/model.ts';

export interface SegmentCapacityVerdict {
  /** true: the segment survives the loss of any one host; false: it does not; null: not computed. */
  n_plus_one: boolean | null;
  /** The hosts whose loss the segment cannot absorb. */
  breaking_hosts: string[];
  /** Host name -> why its VMs would not all come back, e.g. "3 instances would not fit (short 4 vCPUs)". */
  host_reasons: Record<string, string[]>;
  /** Segment-level reasons (shown in the segment's entry). */
  reasons: string[];
}

export interface CapacityVerdictProvider {
  segmentVerdict(segment: Segment, hosts: Host[]): Promise<SegmentCapacityVerdict>;
}

export const NO_CAPACITY_VERDICT: SegmentCapacityVerdict = { n_plus_one: null, breaking_hosts: [], host_reasons: {}, reasons: [] };
