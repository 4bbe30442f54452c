// Every metric masakari exposes, defined once: the controller's (API, engine), the compute agent's (monitors,
// outbox) and the protection gauges. Code that records a fact takes the group it needs as a small dependency
// (default: the no-op group), so nothing below the roles knows whether metrics are on. docs/observability.md lists
// each one with its meaning; keep the two in step.

import { noopRegistry, type Counter, type Gauge, type Histogram, type MetricsRegistry } from './metrics.ts';

/** Recovery phases: from a tenth of a second (a restart on a fast host) to an hour (a big host's evacuation). */
const RECOVERY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];
/** API requests: a cached GET answers in well under a millisecond. */
const API_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the recovery engine records (the engine, its status machine, periodic jobs, tasks and guards). */
export interface EngineMetrics {
  notificationsAccepted: Counter;
  notificationsFinished: Counter;
  notificationsExpired: Counter;
  recoveryDuration: Histogram;
  recoveryStartDelay: Histogram;
  fencingDuration: Histogram;
  serviceDisableDuration: Histogram;
  instanceEvacuationDuration: Histogram;
  instanceRestartDuration: Histogram;
  taskDuration: Histogram;
  instancesInFlight: Gauge;
  oldestRunningAge: Gauge;
  fenceAttempts: Counter;
  periodicRetries: Counter;
  massFailurePauses: Counter;
  leasesHeld: Gauge;
  leasesTakenOver: Counter;
}

export interface ApiMetrics {
  requestDuration: Histogram;
}

export interface ControllerMetrics extends EngineMetrics, ApiMetrics {}

export function controllerMetrics(r: MetricsRegistry): ControllerMetrics {
  const recovery = (name: string, help: string, labelNames: string[]) => r.histogram({ name, help, labelNames, buckets: RECOVERY_BUCKETS });
  return {
    notificationsAccepted: r.counter({
      name: 'masakari_notifications_accepted_total',
      help: 'Notifications the API accepted (202), by type.',
      labelNames: ['type'],
    }),
    notificationsFinished: r.counter({
      name: 'masakari_notifications_finished_total',
      help: 'Processing attempts that ended, by notification type and the status they ended in (finished, ignored, error, failed).',
      labelNames: ['type', 'status'],
    }),
    notificationsExpired: r.counter({
      name: 'masakari_notifications_expired_total',
      help: 'Notifications failed by the expiry job (not finished within notifications_expired_interval), by type.',
      labelNames: ['type'],
    }),
    recoveryDuration: recovery(
      'masakari_recovery_duration_seconds',
      'Whole recovery: from the notification being accepted to the status its processing ended in, by type and status.',
      ['type', 'status'],
    ),
    recoveryStartDelay: recovery(
      'masakari_recovery_start_delay_seconds',
      'From the notification being accepted to its workflow starting (the first recovery action), by type.',
      ['type'],
    ),
    fencingDuration: recovery('masakari_recovery_fencing_duration_seconds', 'Fencing of a failed host (FenceHostTask), by result.', ['result']),
    serviceDisableDuration: recovery(
      'masakari_recovery_service_disable_duration_seconds',
      "Disabling a failed host's compute service until it is disabled and down (DisableComputeServiceTask), by result.",
      ['result'],
    ),
    instanceEvacuationDuration: recovery(
      'masakari_recovery_instance_evacuation_duration_seconds',
      "One instance's evacuation, every attempt included, by result (succeeded, failed).",
      ['result'],
    ),
    instanceRestartDuration: recovery(
      'masakari_recovery_instance_restart_duration_seconds',
      "One instance's restart after an instance failure (stop, start, confirm active), by result (success, failure, skipped, ignored).",
      ['result'],
    ),
    taskDuration: recovery('masakari_recovery_task_duration_seconds', 'Each recovery task, by task name and result (success, failure).', ['task', 'result']),
    instancesInFlight: r.gauge({
      name: 'masakari_recovery_instances_in_flight',
      help: 'Instance evacuations and restarts under way now, by action (evacuation, restart).',
      labelNames: ['action'],
    }),
    oldestRunningAge: r.gauge({
      name: 'masakari_recovery_oldest_running_age_seconds',
      help: 'Age of the oldest workflow this controller runs now, from its notification being accepted (0 when none runs).',
    }),
    fenceAttempts: r.counter({
      name: 'masakari_fence_attempts_total',
      help: 'Attempts to get fence evidence for a failed host, by result (fenced, not_fenced, timeout, not_configured).',
      labelNames: ['result'],
    }),
    periodicRetries: r.counter({
      name: 'masakari_periodic_retries_total',
      help: 'Notifications the periodic jobs took up again, by kind (error: the one retry; new: left new too long; resume: a stopped controller left it running).',
      labelNames: ['kind'],
    }),
    massFailurePauses: r.counter({
      name: 'masakari_mass_failure_pauses_total',
      help: 'Host recoveries the mass-failure guard paused (too many hosts of the segment failed at once).',
    }),
    leasesHeld: r.gauge({ name: 'masakari_engine_leases_held', help: 'Notification claims (leases) this controller holds now.' }),
    leasesTakenOver: r.counter({
      name: 'masakari_engine_leases_taken_over_total',
      help: 'Running notifications this controller took over from another owner whose lease ran out.',
    }),
    requestDuration: r.histogram({
      name: 'masakari_api_request_duration_seconds',
      help: 'API requests by method, route pattern and status code, with their latency (its _count is the request count).',
      labelNames: ['method', 'route', 'code'],
      buckets: API_BUCKETS,
    }),
  };
}

/** What the compute agent records (monitors and outbox). */
export interface ComputeMetrics {
  monitorEvents: Counter;
  queued: Counter;
  delivered: Counter;
  rejected: Counter;
  deliveryFailures: Counter;
  backlog: Gauge;
  oldestPendingAge: Gauge;
  libvirtConnected: Gauge;
  hostMonitorQuorate: Gauge;
  hostMonitorLastSampleAge: Gauge;
  processRestarts: Counter;
}

export function computeMetrics(r: MetricsRegistry): ComputeMetrics {
  return {
    monitorEvents: r.counter({
      name: 'masakari_monitor_events_total',
      help: 'Events the monitors saw, by monitor (instance, host, process, introspective) and kind.',
      labelNames: ['monitor', 'kind'],
    }),
    queued: r.counter({ name: 'masakari_outbox_queued_total', help: 'Notifications written to the outbox, by type.', labelNames: ['type'] }),
    delivered: r.counter({
      name: 'masakari_outbox_delivered_total',
      help: 'Notifications the controller took, by type and result (accepted; duplicate: it answered 409).',
      labelNames: ['type', 'result'],
    }),
    rejected: r.counter({
      name: 'masakari_outbox_rejected_total',
      help: 'Notifications the controller refused (400): parked in the outbox for an operator, by type.',
      labelNames: ['type'],
    }),
    deliveryFailures: r.counter({
      name: 'masakari_outbox_delivery_failures_total',
      help: 'Delivery attempts that failed and will be retried (controller unreachable, 5xx), by type.',
      labelNames: ['type'],
    }),
    backlog: r.gauge({
      name: 'masakari_outbox_backlog',
      help: 'Outbox entries by state (pending: not delivered yet; rejected: parked).',
      labelNames: ['state'],
    }),
    oldestPendingAge: r.gauge({
      name: 'masakari_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest notification not delivered yet (0 when none is pending).',
    }),
    libvirtConnected: r.gauge({
      name: 'masakari_libvirt_connected',
      help: "1 when the monitor's libvirt connection is up, 0 while it reconnects, by monitor (instance, introspective).",
      labelNames: ['monitor'],
    }),
    hostMonitorQuorate: r.gauge({
      name: 'masakari_host_monitor_quorate',
      help: "1 when the host monitor's last cluster sample had quorum, 0 otherwise (no sample yet: absent).",
    }),
    hostMonitorLastSampleAge: r.gauge({
      name: 'masakari_host_monitor_last_sample_age_seconds',
      help: 'Seconds since the host monitor last read the cluster state successfully.',
    }),
    processRestarts: r.counter({
      name: 'masakari_process_monitor_restarts_total',
      help: 'Restarts of watched processes by the process monitor, by process and result (restarted, failed).',
      labelNames: ['process', 'result'],
    }),
  };
}

/**
 * The protection gauges (protected hosts and segments, agent last-seen age, fencer readiness). Hook for the
 * protection work (heartbeats, readiness checks): it calls protectionMetrics(registry) where it computes the report
 * and sets these from it; until then nothing registers them, so no misleading zero is exposed. The alert rules
 * MasakariHostUnprotected and MasakariAgentSilent (deploy/prometheus/masakari-rules.yml) read them.
 */
export interface ProtectionMetrics {
  hostProtected: Gauge;
  segmentProtected: Gauge;
  agentLastSeenAge: Gauge;
  fencerReady: Gauge;
}

export function protectionMetrics(r: MetricsRegistry): ProtectionMetrics {
  return {
    hostProtected: r.gauge({
      name: 'masakari_host_protected',
      help: '1 when a host is protected (agent heard, fencing ready, capacity to take its instances), 0 otherwise, by host and segment.',
      labelNames: ['host', 'segment'],
    }),
    segmentProtected: r.gauge({
      name: 'masakari_segment_protected',
      help: '1 when every host of the segment is protected, by segment.',
      labelNames: ['segment'],
    }),
    agentLastSeenAge: r.gauge({
      name: 'masakari_agent_last_seen_age_seconds',
      help: "Seconds since the controller last heard a host's compute agent, by host.",
      labelNames: ['host'],
    }),
    fencerReady: r.gauge({ name: 'masakari_fencer_ready', help: "1 when the last readiness check of a host's fencer passed, by host.", labelNames: ['host'] }),
  };
}

/** Metrics off: the same groups, every handle a no-op. */
export const NO_CONTROLLER_METRICS: ControllerMetrics = controllerMetrics(noopRegistry);
export const NO_COMPUTE_METRICS: ComputeMetrics = computeMetrics(noopRegistry);
