import { z } from 'zod';
import { seconds } from '../types.ts';

/** Where notifications go and how the agent authenticates (masakari-monitors' [api] section). */
const controllerSection = z.strictObject({
  /** The controller's API root, ending in /v1. null: the instance-ha endpoint of the Keystone catalog. */
  endpoint: z
    .string()
    .regex(/^https?:\/\/.+\/v1\/?$/, 'must be an http(s) URL ending in /v1, e.g. http://127.0.0.1:15868/v1')
    .nullable()
    .default('http://127.0.0.1:15868/v1'),
  auth: z
    .strictObject({
      /** none: send `token` as X-Auth-Token (controllers with noauth2). keystone_password: get a token from Keystone. */
      type: z.enum(['none', 'keystone_password']).default('none'),
      token: z.string().default('notused'),
      auth_url: z.string().url().default('http://127.0.0.1:5000/v3'),
      username: z.string().default('masakari'),
      password: z.string().default(''),
      project_name: z.string().default('service'),
      user_domain_name: z.string().default('Default'),
      project_domain_name: z.string().default('Default'),
      region_name: z.string().nullable().default(null),
      interface: z.enum(['public', 'internal', 'admin']).default('public'),
    })
    .prefault({}),
  /** One HTTP request's time limit. */
  timeout_seconds: z.number().positive().default(10),
});

/** The durable outbox between the monitors and the controller. */
const deliverySection = z.strictObject({
  /** SQLite file of undelivered notifications; relative to data_dir. */
  outbox_path: z.string().min(1).default('outbox.sqlite'),
  /** First retry delay; doubles per failure up to retry_max_seconds, with jitter. Retries never stop. */
  retry_initial_seconds: z.number().positive().default(1),
  retry_max_seconds: z.number().positive().default(60),
  /** Delivered notifications kept in the file as an audit trail. */
  keep_sent: z.number().int().min(0).default(1000),
});

/** masakari-processmonitor's [process] options. */
const processMonitorSection = z.strictObject({
  enabled: z.boolean().default(false),
  process_list_path: z.string().min(1).default('/etc/masakari/process_list.yaml'),
  check_interval: seconds(5),
  restart_retries: z.number().int().min(0).default(3),
  restart_interval: seconds(5),
  /** A start/restart command running longer than this is killed and counts as failed. */
  command_timeout: z.number().positive().default(60),
});

/** masakari-hostmonitor's [host] options, Pacemaker driver. */
const hostMonitorSection = z.strictObject({
  enabled: z.boolean().default(false),
  driver: z.enum(['pacemaker']).default('pacemaker'),
  monitoring_interval: seconds(60),
  /** A peer's status must be the same in this many consecutive polls before it counts. */
  monitoring_samples: z.number().int().min(1).default(1),
  /** This node's name in the cluster (never reported on); default: compute.hostname, then the OS hostname. */
  local_node_name: z.string().nullable().default(null),
  /** Only watch Pacemaker remote nodes (masakari's restrict_to_remotes). */
  restrict_to_remotes: z.boolean().default(false),
  /** What the monitor knows about its peers, kept across restarts (relative to data_dir); null: memory only. */
  state_path: z.string().min(1).nullable().default('host-monitor-state.json'),
  /** host_status sent for a peer that went offline without a fencing the cluster reports (UNKNOWN: the engine ignores it). */
  offline_without_fencing: z.enum(['UNKNOWN', 'NORMAL']).default('UNKNOWN'),
  pacemaker: z
    .strictObject({
      crm_mon_command: z.array(z.string().min(1)).min(1).default(['crm_mon', '-1', '--output-as=xml', '--fence-history=3']),
      timeout_seconds: z.number().positive().default(30),
    })
    .prefault({}),
});

// Options of the compute role (monitors and delivery). The monitor and delivery modules extend this
// section with their own sub-objects.

export const computeSection = z.strictObject({
  /** The name this hypervisor reports in notifications; default: the OS hostname. */
  hostname: z.string().nullable().default(null),
  /**
   * Seconds between two heartbeats of this agent to its controller (version + health of each monitor + outbox
   * backlog; docs/protection.md). The controller calls the host unprotected after controller.agent_timeout of silence.
   */
  heartbeat_interval: z.number().positive().default(10),
  controller: controllerSection.prefault({}),
  delivery: deliverySection.prefault({}),
  process_monitor: processMonitorSection.prefault({}),
  host_monitor: hostMonitorSection.prefault({}),
});
