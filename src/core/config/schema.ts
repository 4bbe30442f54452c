// The one configuration schema. Each section lives in ./sections/ next to the code that reads it.
// Unknown keys are errors everywhere (strictObject), so a typo stops startup instead of being ignored.

import { z } from 'zod';
import { seconds } from './types.ts';
import { apiSection } from './sections/api.ts';
import { databaseSection } from './sections/database.ts';
import { engineSection, hostFailureSection, instanceFailureSection, processFailureSection, recoveryFlowsSection } from './sections/engine.ts';
import { computeSection } from './sections/compute.ts';
import { libvirtSection } from './sections/libvirt-monitors.ts';
import { libvirtComputeSection } from './sections/libvirt-compute.ts';
import { instanceRestartLimitSection } from './sections/restart-limit.ts';
import { fencingSection } from './sections/fencing.ts';
import { openstackSection } from './sections/openstack.ts';
import { controllerSection } from './sections/controller.ts';
import { clusterSafetySection, hostReturnKeys } from './sections/cluster-safety.ts';
import { eventsSection, osloMessagingNotificationsSection } from './sections/observe.ts';
import { metricsSection } from './sections/metrics.ts';

export const configSchema = z.strictObject({
  /** Where SQLite files (store, outbox) live when their paths are relative. */
  data_dir: z.string().min(1).default('/var/lib/masakari'),
  /** How long a role may take to stop after SIGTERM/SIGINT; then it exits anyway, naming what did not stop. */
  shutdown_timeout: seconds(15),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
      /** json for log collectors; pretty for humans at a terminal. */
      format: z.enum(['json', 'pretty']).default('json'),
    })
    .prefault({}),
  api: apiSection.prefault({}),
  database: databaseSection.prefault({}),
  engine: engineSection.prefault({}),
  host_failure: hostFailureSection.extend(hostReturnKeys).prefault({}),
  instance_failure: instanceFailureSection.prefault({}),
  process_failure: processFailureSection.prefault({}),
  taskflow_driver_recovery_flows: recoveryFlowsSection.prefault({}),
  /** Restarts per VM per window, for instance_restart_limit_task (sections/restart-limit.ts). */
  instance_restart_limit: instanceRestartLimitSection.prefault({}),
  compute: computeSection.prefault({}),
  libvirt: libvirtSection.prefault({}),
  /** The libvirt recovery driver's hosts (controller side); `libvirt` above is the local monitors' connection. */
  libvirt_compute: libvirtComputeSection.prefault({}),
  fencing: fencingSection.prefault({}),
  openstack: openstackSection.prefault({}),
  controller: controllerSection.prefault({}),
  /** Pacemaker fence evidence and the mass-failure guard (sections/cluster-safety.ts, docs/pacemaker.md). */
  cluster_safety: clusterSafetySection.prefault({}),
  /** Masakari's versioned notifications on RabbitMQ (sections/observe.ts, docs/observability.md). */
  oslo_messaging_notifications: osloMessagingNotificationsSection.prefault({}),
  /** The event stream's history (GET /v1/x-masakari/events). */
  events: eventsSection.prefault({}),
  /** Prometheus metrics listener of every role (sections/metrics.ts, docs/observability.md). */
  metrics: metricsSection.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
