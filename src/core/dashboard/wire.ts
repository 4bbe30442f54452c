// The API bodies the dashboard reads, as they arrive on the wire (snake_case JSON), including the extension
// resources of the shared contract (protection report, what-if), which may not be built into this controller.

export interface SegmentJson {
  uuid: string;
  name: string;
  description: string | null;
  recovery_method: string;
  service_type: string;
  enabled: boolean;
}

export interface HostJson {
  uuid: string;
  name: string;
  type: string;
  control_attributes: string;
  reserved: boolean;
  on_maintenance: boolean;
  failover_segment_id: string;
}

export interface TaskJson {
  name: string;
  progress: number;
  state: string;
  progress_details: { timestamp: string; progress: string | number; message: string }[];
}

export interface NotificationJson {
  notification_uuid: string;
  generated_time: string;
  source_host_uuid: string;
  type: string;
  payload: Record<string, unknown>;
  status: string;
  created_at: string;
  updated_at: string | null;
  recovery_workflow_details?: TaskJson[];
}

export interface VMoveJson {
  uuid: string;
  instance_uuid: string;
  instance_name: string | null;
  source_host: string;
  dest_host: string | null;
  start_time: string | null;
  end_time: string | null;
  status: string;
  type: string;
  message: string | null;
}

export interface ProtectionHost {
  name: string;
  uuid: string;
  segment: string;
  segment_uuid: string;
  protected: boolean;
  reasons: string[];
  warnings: string[];
  agent: { last_seen: string | null; silent: boolean; version: string | null; monitors: Record<string, unknown> } | null;
  fencing: { state: string; checked_at: string | null; detail: string | null };
}

export interface ProtectionSegment {
  name: string;
  uuid: string;
  protected: boolean;
  n_plus_one: boolean | null;
  breaking_hosts: string[];
  reasons: string[];
}

export interface ProtectionReport {
  generated_at: string;
  hosts: ProtectionHost[];
  segments: ProtectionSegment[];
}

/** Free resources; null when the backend does not know (no capacity data, libvirt disk). */
export interface Resources {
  vcpus: number | null;
  ram_mb: number | null;
  disk_gb: number | null;
}

export interface WhatIf {
  host: string;
  segment: string;
  recovery_method: string;
  instances: { id: string; name: string; recovered: boolean; target: string | null; candidates: string[]; reason: string | null }[];
  capacity: { host: string; before: Resources; after: Resources }[];
  shortfall: Resources | null;
  estimated_makespan_seconds: number;
  /** What the plan could not know and assumed instead (may be absent). */
  warnings?: string[];
}
