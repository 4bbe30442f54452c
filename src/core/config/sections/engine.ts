import { z } from 'zod';
import { seconds } from '../types.ts';

// Names and defaults follow masakari.conf ([DEFAULT] engine options, [host_failure], [instance_failure],
// [process_failure], [taskflow_driver_recovery_flows]) so operators can carry their settings over.

const taskList = z.array(z.string().min(1));
const flowTasks = (pre: string[], main: string[], post: string[]) =>
  z.strictObject({ pre: taskList.default(pre), main: taskList.default(main), post: taskList.default(post) }).prefault({});

export const engineSection = z.strictObject({
  /** Same type+host+payload within this many seconds of generated_time is a duplicate (409). */
  duplicate_notification_detection_interval: seconds(180),
  /** Upper bound while polling for a compute service to report disabled (Masakari sleeps this long). */
  wait_period_after_service_update: seconds(180),
  wait_period_after_evacuation: seconds(90),
  verify_interval: seconds(1),
  wait_period_after_power_off: seconds(180),
  wait_period_after_power_on: seconds(60),
  process_unfinished_notifications_interval: seconds(120),
  retry_notification_new_status_interval: seconds(60),
  check_expired_notifications_interval: seconds(600),
  notifications_expired_interval: seconds(86400),
  /** Evacuations running at once for one failed host (Masakari: 3). */
  host_failure_recovery_threads: z.number().int().min(1).max(1024).default(32),
  /**
   * Lease on a notification and on a failed host's recovery (seconds). A controller renews it while it works; when
   * it dies, another controller (or itself after restart) resumes the workflow once the lease has run out.
   */
  claim_lease_seconds: z.number().min(1).default(30),
  /** How often to look for notifications whose lease ran out (a dead controller's work). Default: lease / 2. */
  orphan_scan_interval: z.number().min(0.1).nullable().default(null),
});

export const hostFailureSection = z.strictObject({
  evacuate_all_instances: z.boolean().default(true),
  ha_enabled_instance_metadata_key: z.string().min(1).default('HA_Enabled'),
  ignore_instances_in_error_state: z.boolean().default(false),
  add_reserved_host_to_aggregate: z.boolean().default(false),
  service_disable_reason: z.string().default('Masakari detected host failed.'),
  /**
   * No evacuation without evidence that the failed host is fenced (powered off and confirmed, or fenced by the
   * cluster). false is an explicit opt-out: logged as a warning at startup and in every host recovery's progress.
   */
  fencing_required: z.boolean().default(true),
  /** Mark the failed host's nova-compute forced-down, so Nova accepts evacuations at once (Masakari never does). */
  force_down_compute_service: z.boolean().default(true),
  /**
   * poll: wait until the service reports disabled (and down), at most wait_period_after_service_update.
   * fixed_sleep: Masakari's behaviour, sleep wait_period_after_service_update after disabling (benchmarks only).
   */
  service_update_wait: z.enum(['poll', 'fixed_sleep']).default('poll'),
  /** Extra evacuation attempts per instance after a failed one (the state is re-read before each). */
  evacuation_retries: z.number().int().min(0).max(10).default(1),
  /** Evacuations in flight towards one known target host (reserved host); 0 = no cap. */
  max_evacuations_per_target_host: z.number().int().min(0).default(16),
  /** Optional server metadata key with a number: higher evacuates earlier (after HA-enabled ordering). */
  priority_metadata_key: z.string().min(1).nullable().default(null),
});

export const instanceFailureSection = z.strictObject({
  process_all_instances: z.boolean().default(false),
  ha_enabled_instance_metadata_key: z.string().min(1).default('HA_Enabled'),
});

export const processFailureSection = z.strictObject({
  service_disable_reason: z.string().default('Masakari detected process failed.'),
});

export const recoveryFlowsSection = z.strictObject({
  host_auto_failure_recovery_tasks: flowTasks(['disable_compute_service_task'], ['prepare_HA_enabled_instances_task'], ['evacuate_instances_task']),
  host_rh_failure_recovery_tasks: flowTasks(['disable_compute_service_task'], ['prepare_HA_enabled_instances_task', 'evacuate_instances_task'], []),
  instance_failure_recovery_tasks: flowTasks(['stop_instance_task'], ['start_instance_task'], ['confirm_instance_active_task']),
  process_failure_recovery_tasks: flowTasks(['disable_compute_node_task'], ['confirm_compute_node_disabled_task'], []),
  /** Extra task modules: task name -> module path (absolute, or relative to the config file). See docs/workflows.md. */
  custom_task_modules: z.record(z.string(), z.string()).default({}),
});
