import { z } from 'zod';

// Options of the compute role (monitors and delivery). The monitor and delivery modules extend this
// section with their own sub-objects.

export const computeSection = z.strictObject({
  /** The name this hypervisor reports in notifications; default: the OS hostname. */
  hostname: z.string().nullable().default(null),
});
