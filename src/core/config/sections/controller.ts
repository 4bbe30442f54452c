import { z } from 'zod';

// Options of the controller role (API + engine) that choose its backends.

export const controllerSection = z.strictObject({
  /**
   * Which backend recovers VMs: nova (OpenStack; see the `openstack` section), libvirt (plain KVM hosts; see `libvirt`),
   * or none (the API runs and accepts notifications, but recovery ends in `error` saying no driver is configured).
   */
  compute_driver: z.enum(['nova', 'libvirt', 'none']).default('none'),
  /**
   * Names this controller in the store's claims. Keep it stable across restarts so a restarted controller resumes its
   * own workflows at once instead of waiting for their leases to expire. Default: the OS hostname.
   */
  owner_id: z.string().min(1).nullable().default(null),
  /**
   * A host whose compute agent sent no heartbeat for this many seconds is unprotected (never a recovery: a silent agent
   * is not a failed host). null: 3 x the heartbeat interval the agent announces in its heartbeats (compute.heartbeat_interval
   * of the agent, 10 s by default), so 30 s.
   */
  agent_timeout: z.number().positive().nullable().default(null),
});
