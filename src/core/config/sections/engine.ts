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
});

export const hostFailureSection = z.strictObject({
  evacuate_all_instances: z.boolean().default(true),
  ha_enabled_instance_metadata_key: z.string().min(1).default('HA_Enabled'),
  ignore_instances_in_error_state: z.boolean().default(false),
  add_reserved_host_to_aggregate: z.boolean().default(false),
  service_disable_reason: z.string().default('Masakari detected host failed.'),
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
