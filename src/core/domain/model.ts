// The records Masakari's API exposes, as the store hands them out. Pure data, no I/O.
// Timestamps are JS Dates in UTC; the API layer formats them the way Masakari does.

export const RECOVERY_METHODS = ['auto', 'reserved_host', 'auto_priority', 'rh_priority'] as const;
export type RecoveryMethod = (typeof RECOVERY_METHODS)[number];

export const NOTIFICATION_TYPES = ['COMPUTE_HOST', 'VM', 'PROCESS'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const NOTIFICATION_STATUSES = ['new', 'running', 'error', 'failed', 'ignored', 'finished'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
/** Statuses that block segment/host update and delete (Masakari's "in-use to process notifications"). */
export const IN_PROGRESS_STATUSES: readonly NotificationStatus[] = ['new', 'running', 'error'];
export const FINAL_STATUSES: readonly NotificationStatus[] = ['finished', 'failed', 'ignored'];

export const VMOVE_STATUSES = ['pending', 'ongoing', 'succeeded', 'failed', 'ignored'] as const;
export type VMoveStatus = (typeof VMOVE_STATUSES)[number];
export const VMOVE_TYPES = ['evacuation', 'migration', 'live_migration'] as const;
export type VMoveType = (typeof VMOVE_TYPES)[number];

interface Row {
  /** Integer primary key: Masakari's list marker. */
  id: number;
  uuid: string;
  createdAt: Date;
  updatedAt: Date | null;
  deletedAt: Date | null;
  deleted: boolean;
}

export interface Segment extends Row {
  name: string;
  description: string | null;
  recoveryMethod: RecoveryMethod;
  serviceType: string;
  enabled: boolean;
}

export interface Host extends Row {
  name: string;
  type: string;
  controlAttributes: string;
  reserved: boolean;
  onMaintenance: boolean;
  /** Segment uuid (Masakari's failover_segment_id is the uuid). */
  segmentUuid: string;
}

export type NotificationPayload = Record<string, unknown>;

export interface Notification extends Row {
  /** Same as uuid; Masakari calls it notification_uuid. */
  type: NotificationType;
  generatedTime: Date;
  sourceHostUuid: string;
  payload: NotificationPayload;
  status: NotificationStatus;
  /** Engine lease: which controller works on it and until when (null when nobody does). */
  claimedBy: string | null;
  claimExpiresAt: Date | null;
  /** How many times the engine started processing it (Masakari retries `error` once). */
  attempts: number;
  /** Last failure reason shown to operators (our addition; not in Masakari's API body). */
  lastError: string | null;
}

export interface VMove extends Row {
  notificationUuid: string;
  instanceUuid: string;
  instanceName: string | null;
  sourceHost: string;
  destHost: string | null;
  startTime: Date | null;
  endTime: Date | null;
  status: VMoveStatus;
  type: VMoveType;
  message: string | null;
}

/** One task of a recovery workflow as API 1.1 shows it (recovery_workflow_details). */
export type TaskState = 'PENDING' | 'RUNNING' | 'SUCCESS' | 'FAILURE' | 'REVERTED' | 'REVERTING' | 'RETRYING';

export interface ProgressDetail {
  timestamp: Date;
  message: string;
  /** 0.0 .. 1.0 */
  progress: number;
}

export interface WorkflowTaskRecord {
  notificationUuid: string;
  /** Order of the task inside the notification's workflow runs (a retry appends). */
  seq: number;
  name: string;
  state: TaskState;
  progress: number;
  details: ProgressDetail[];
  /** Opaque JSON the engine persists so that a resumed run can continue (e.g. instance list). */
  result: unknown;
  updatedAt: Date;
}
