// The store's contract. Both implementations (SQLite: ./sqlite, MySQL/MariaDB: ./mysql) pass the same contract
// suite (test/store/contract.ts). Methods are async so that network databases fit.
// Implementations never interpret HTTP; they throw domain errors from ../domain/errors.ts.

import type {
  Host,
  Notification,
  NotificationStatus,
  NotificationType,
  ProgressDetail,
  RecoveryMethod,
  Segment,
  TaskState,
  VMove,
  VMoveStatus,
  VMoveType,
  WorkflowTaskRecord,
} from '../domain/model.ts';
import type { HostColumns, NotificationColumns, SegmentColumns, TaskColumns, VMoveColumns } from './sql/rows.ts';
import type { AgentHeartbeat, StoredHeartbeat } from '../ports/heartbeat.ts';

export type SortDir = 'asc' | 'desc';

export interface ListQuery<F> {
  filters: F;
  /** Applied in order; the store appends `id` in the last direction as a tie-breaker. Default: created_at desc. */
  sort: { key: string; dir: SortDir }[];
  /** Already capped by the caller at osapi_max_limit. */
  limit: number;
  /** Integer id of the last row of the previous page. */
  marker?: number;
}

export interface SegmentFilters {
  recoveryMethod?: string;
  serviceType?: string;
  enabled?: boolean;
}
export interface HostFilters {
  segmentUuid: string;
  type?: string;
  onMaintenance?: boolean;
  reserved?: boolean;
}
export interface NotificationFilters {
  status?: NotificationStatus;
  /** Any of these statuses (the API's `status=a,b`); combined with `status` by AND when both are given. */
  statuses?: string[];
  type?: string;
  sourceHostUuid?: string;
  generatedSince?: Date;
}
export interface VMoveFilters {
  notificationUuid: string;
  status?: string;
  type?: string;
}

export interface NewSegment {
  name: string;
  description: string | null;
  recoveryMethod: RecoveryMethod;
  serviceType: string;
  enabled: boolean;
}
export type SegmentPatch = Partial<NewSegment>;

export interface NewHost {
  name: string;
  type: string;
  controlAttributes: string;
  reserved: boolean;
  onMaintenance: boolean;
}
export type HostPatch = Partial<NewHost>;

export interface NewNotification {
  uuid: string;
  type: NotificationType;
  generatedTime: Date;
  sourceHostUuid: string;
  payload: Record<string, unknown>;
}

export interface NewVMove {
  notificationUuid: string;
  instanceUuid: string;
  instanceName: string | null;
  sourceHost: string;
  destHost: string | null;
  type: VMoveType;
  status: VMoveStatus;
}
/** A workflow's lease: its writes commit only while `owner` holds the claim on notification `notificationUuid`. */
export interface LeaseFence {
  notificationUuid: string;
  owner: string;
}

export type VMovePatch = Partial<Pick<VMove, 'destHost' | 'startTime' | 'endTime' | 'status' | 'message'>>;

/**
 * Rows that already have their identity (ids, UUIDs, times in µs, soft-delete flags), in the target's column
 * format: what `masakari db import-masakari` brings over from Masakari's database (src/core/store/sql/import.ts).
 */
export interface ImportBatch {
  segments: SegmentColumns[];
  hosts: HostColumns[];
  /** claimed_by/claim_expires_at null and attempts 0 (nobody works on them yet); payload_key is computed on insert. */
  notifications: NotificationColumns[];
  tasks: TaskColumns[];
  vmoves: VMoveColumns[];
}

/** Why an imported row cannot go in: its UUID, or (live segments and hosts) its name, is taken in the target. */
export interface ImportConflict {
  kind: 'segment' | 'host' | 'notification' | 'vmove';
  /** The imported row's UUID. */
  uuid: string;
  name?: string;
  reason: string;
}

export interface ImportResult {
  /** Non-empty: nothing was written. */
  conflicts: ImportConflict[];
  /** True when the rows were committed (no conflict and not a dry run). */
  written: boolean;
  counts: Record<'failover_segments' | 'hosts' | 'notifications' | 'workflow_tasks' | 'vmoves', number>;
  /** Rows per table whose id was already used in the target and that got a new one. */
  renumbered: Record<string, number>;
}

export type CreateNotificationResult = { created: true; notification: Notification } | { created: false; reason: 'duplicate'; existing: Notification };

export interface Store {
  /** Dialect name for diagnostics: 'sqlite' | 'mysql'. */
  readonly dialect: string;
  /**
   * A token that changes whenever committed data may have changed (this process's writes or another connection's
   * commits); null when the store cannot tell cheaply (then nothing may be cached). The API caches serialized
   * GET responses under it: take it BEFORE reading, so a cached body is never older than its token.
   */
  changeStamp?(): string | null;

  // segments (soft delete; deleted rows are invisible everywhere)
  listSegments(q: ListQuery<SegmentFilters>): Promise<Segment[]>;
  getSegment(uuid: string): Promise<Segment | undefined>;
  /** Throws conflict "Failover segment with name X already exists." */
  createSegment(input: NewSegment, now: Date): Promise<Segment>;
  updateSegment(uuid: string, patch: SegmentPatch, now: Date): Promise<Segment>;
  /** Soft-deletes the segment and its hosts in one transaction. */
  deleteSegment(uuid: string, now: Date): Promise<void>;
  /** True when any host of the segment has a notification in new, running or error. */
  segmentInUse(uuid: string): Promise<boolean>;

  // hosts (names unique across all live hosts of all segments)
  listHosts(q: ListQuery<HostFilters>): Promise<Host[]>;
  getHost(uuid: string): Promise<Host | undefined>;
  getHostByName(name: string): Promise<Host | undefined>;
  listHostsOfSegment(segmentUuid: string): Promise<Host[]>;
  /** Throws conflict "Host with name X already exists." */
  createHost(segmentUuid: string, input: NewHost, now: Date): Promise<Host>;
  updateHost(uuid: string, patch: HostPatch, now: Date): Promise<Host>;
  deleteHost(uuid: string, now: Date): Promise<void>;
  hostInUse(uuid: string): Promise<boolean>;

  // notifications
  listNotifications(q: ListQuery<NotificationFilters>): Promise<Notification[]>;
  getNotification(uuid: string): Promise<Notification | undefined>;
  /**
   * Inserts atomically unless a notification of the same type, source host and identical payload
   * has a generated_time within `duplicateWindowMs` of this one (either side) and is still `new` or `running`
   * (as Masakari: one that ended does not block a new identical failure). Durable (committed, fsynced per the
   * store's durability setting) when the promise resolves.
   */
  createNotification(input: NewNotification, duplicateWindowMs: number, now: Date): Promise<CreateNotificationResult>;
  /** Unconditional status write (used by the engine when it holds the claim). */
  setNotificationStatus(uuid: string, status: NotificationStatus, now: Date, lastError?: string | null): Promise<Notification>;
  /**
   * The end of a workflow as ONE write: setNotificationStatus, then releaseHostRecovery(release.hostKey, uuid) when
   * a host key is given, then releaseNotificationClaim(uuid, release.owner), in one transaction. (Three commits per
   * processed notification were a measurable share of intake.)
   */
  finishNotification(
    uuid: string,
    status: NotificationStatus,
    now: Date,
    lastError: string | null | undefined,
    release: { owner: string; hostKey?: string },
  ): Promise<Notification>;

  /**
   * Gives a `new` notification its final status in ONE conditional write, for outcomes decided from the
   * notification alone (an event that needs no recovery, a disabled segment): no claim, no `running`, no host claim.
   * Applies only while the row is still `new` and nobody holds a live claim (at `now`), so it races safely with
   * claimNotification on another controller. Counts one attempt. Returns the updated row, or undefined when the
   * condition did not hold (someone else took it, or it is no longer new).
   */
  settleNewNotification(uuid: string, status: NotificationStatus, now: Date, lastError: string | null): Promise<Notification | undefined>;

  // engine leases: a notification and a failed host are each worked on by one controller at a time
  /**
   * Claims the notification for `owner` until now+leaseMs when it is unclaimed or its lease expired.
   * Returns the claimed row (attempts incremented when `countAttempt`), or undefined when someone else holds it.
   */
  claimNotification(uuid: string, owner: string, leaseMs: number, now: Date, countAttempt: boolean): Promise<Notification | undefined>;
  /** Extends a lease; false when the owner lost it. */
  renewNotificationClaim(uuid: string, owner: string, leaseMs: number, now: Date): Promise<boolean>;
  releaseNotificationClaim(uuid: string, owner: string): Promise<void>;
  /** Notifications in the given statuses, oldest first, at most `limit`. */
  findNotificationsByStatus(statuses: NotificationStatus[], limit: number): Promise<Notification[]>;
  /**
   * Claims the right to run recovery under `recoveryKey` (one workflow per failed host or instance: the engine's key
   * is the host's name, or `instance:<uuid>` for an instance failure; column recovery_key).
   */
  claimHostRecovery(recoveryKey: string, notificationUuid: string, owner: string, leaseMs: number, now: Date): Promise<boolean>;
  releaseHostRecovery(recoveryKey: string, notificationUuid: string): Promise<void>;

  // workflow progress (API 1.1 recovery_workflow_details)
  // The workflow's writes (tasks, checkpoints, vmoves) take a LeaseFence: they commit only while its owner still holds
  // the notification's claim, unexpired at `now`, in the same transaction; otherwise they throw LeaseLostError and
  // change nothing. A controller that lost its lease (a stalled commit, a paused process) therefore never writes over
  // the checkpoints of the controller that took the workflow over.
  /** Adds a task record at the end of the notification's task list and returns its seq. */
  appendTask(notificationUuid: string, name: string, state: TaskState, now: Date, fence?: LeaseFence): Promise<number>;
  updateTask(
    notificationUuid: string,
    seq: number,
    patch: { state?: TaskState; progress?: number; addDetail?: ProgressDetail; result?: unknown },
    now: Date,
    fence?: LeaseFence,
  ): Promise<void>;
  listTasks(notificationUuid: string): Promise<WorkflowTaskRecord[]>;

  // vmoves (API 1.3)
  createVMove(input: NewVMove, now: Date, fence?: LeaseFence): Promise<VMove>;
  updateVMove(uuid: string, patch: VMovePatch, now: Date, fence?: LeaseFence): Promise<VMove>;
  getVMove(notificationUuid: string, uuid: string): Promise<VMove | undefined>;
  listVMoves(q: ListQuery<VMoveFilters>): Promise<VMove[]>;

  // event stream history (GET /v1/x-masakari/events; src/core/observe/history.ts)
  /**
   * Appends events in order (ids from the table's autoincrement, so increasing across controllers) and deletes
   * those older than the newest `keep`. Returns the ids given.
   */
  appendEvents(events: readonly NewStoredEvent[], keep: number): Promise<number[]>;
  /** Events with id > afterId, oldest first, at most `limit`. */
  listEventsAfter(afterId: number, limit: number): Promise<StoredEvent[]>;
  /** The lowest and highest id kept (0 and 0 when there is none). */
  eventIdRange(): Promise<{ first: number; last: number }>;
  /**
   * Inserts the batch in ONE transaction, keeping UUIDs (and ids where free), unless a UUID or a live name is
   * already taken: then it writes nothing and returns every conflict. `dryRun` checks and counts without writing.
   */
  importRecords(batch: ImportBatch, opts: { dryRun: boolean }): Promise<ImportResult>;
  // agent heartbeats (docs/protection.md): the latest per host, kept durably so a restarted controller still knows
  /** Replaces the host's stored heartbeat. */
  recordHeartbeat(hb: AgentHeartbeat, receivedAt: Date): Promise<void>;
  /** The latest heartbeat of every host that ever sent one, by host name. */
  listHeartbeats(): Promise<StoredHeartbeat[]>;

  // maintenance
  /** Hard-deletes soft-deleted rows and finished notifications older than the cutoff; returns rows removed per table. */
  purge(olderThan: Date, maxRows: number): Promise<Record<string, number>>;
  /** Schema version applied (migration count) and the latest the code knows. */
  schemaVersion(): Promise<{ current: number; latest: number }>;
  migrate(): Promise<{ applied: string[] }>;
  close(): Promise<void>;
}

// The parts of the Store each dialect's repositories implement (segments.ts, hosts.ts...); a dialect's store is
// these spread into one object, plus dialect, changeStamp, schemaVersion, migrate and close.
export type SegmentStore = Pick<Store, 'listSegments' | 'getSegment' | 'createSegment' | 'updateSegment' | 'deleteSegment' | 'segmentInUse'>;
export type HostStore = Pick<
  Store,
  'listHosts' | 'getHost' | 'getHostByName' | 'listHostsOfSegment' | 'createHost' | 'updateHost' | 'deleteHost' | 'hostInUse'
>;
export type NotificationStore = Pick<
  Store,
  | 'listNotifications'
  | 'getNotification'
  | 'setNotificationStatus'
  | 'finishNotification'
  | 'settleNewNotification'
  | 'claimNotification'
  | 'renewNotificationClaim'
  | 'releaseNotificationClaim'
  | 'findNotificationsByStatus'
>;
export type IntakeStore = Pick<Store, 'createNotification'>;
export type EngineStore = Pick<Store, 'claimHostRecovery' | 'releaseHostRecovery' | 'appendTask' | 'updateTask' | 'listTasks'>;
export type VMoveStore = Pick<Store, 'createVMove' | 'updateVMove' | 'getVMove' | 'listVMoves'>;
export type PurgeStore = Pick<Store, 'purge'>;
export type EventStore = Pick<Store, 'appendEvents' | 'listEventsAfter' | 'eventIdRange'>;

export interface NewStoredEvent {
  type: string;
  at: Date;
  payload: Record<string, unknown>;
}
export interface StoredEvent extends NewStoredEvent {
  id: number;
}
export type ImportStore = Pick<Store, 'importRecords'>;
export type HeartbeatStore = Pick<Store, 'recordHeartbeat' | 'listHeartbeats'>;

export type { NotificationType };
