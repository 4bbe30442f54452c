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
});
