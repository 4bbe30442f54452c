// The what-if plan as the API (GET /v1/x-masakari/whatif?lose=HOST) and the CLI (masakari whatif) show it. Field
// names are snake_case because this is the wire format (docs/api.md, docs/protection.md).

import type { RecoveryMethod } from '../../domain/model.ts';
import type { HostFlowKind } from '../../engine/rules.ts';

/** Free resources of a host; a null field is not known (no capacity from the backend) or not tracked (libvirt disk). */
export interface ResourceView {
  vcpus: number | null;
  ram_mb: number | null;
  disk_gb: number | null;
}

export interface WhatIfInstance {
  id: string;
  name: string;
  recovered: boolean;
  /** The reserved host it would go to; null when the scheduler picks (see candidates) or when it is not recovered. */
  target: string | null;
  /** Hosts with room for it when it is placed, most free RAM first (the one the plan counted it on first). */
  candidates: string[];
  /** Why it is not recovered; null when it is. */
  reason: string | null;
}

export interface WhatIfCapacity {
  host: string;
  /** Free before the failure and after the planned evacuations. */
  before: ResourceView;
  after: ResourceView;
}

export interface WhatIfPlan {
  host: string;
  segment: string;
  segment_uuid: string;
  recovery_method: RecoveryMethod;
  /** The flows the method runs, in order (each after the one before failed). */
  flows: HostFlowKind[];
  instances: WhatIfInstance[];
  capacity: WhatIfCapacity[];
  /** What the instances that find no room need in all; null when every instance to recover has room. */
  shortfall: { vcpus: number; ram_mb: number; disk_gb: number } | null;
  estimated_makespan_seconds: number;
  makespan_basis: {
    /** Seconds one evacuation takes: the median of recent measured ones, or the default. */
    evacuation_seconds: number;
    /** How many measured evacuations that median is of (0: the default was used). */
    measured_evacuations: number;
    workers: number;
    max_evacuations_per_target_host: number;
  };
  /** What the plan could not know (a host's capacity, an instance's size) and assumed instead. */
  warnings: string[];
}

/** The segment-level view: does the segment survive the loss of any one of its hosts? */
export interface SegmentSurvival {
  segment: string;
  segment_uuid: string;
  n_plus_one: boolean;
  /** Hosts whose loss leaves an instance that should be recovered without a place to go, with why. */
  breaking_hosts: string[];
  reasons: string[];
  plans: WhatIfPlan[];
}
