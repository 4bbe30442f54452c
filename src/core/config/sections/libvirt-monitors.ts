import { z } from 'zod';
import { seconds } from '../types.ts';

// The libvirt connection of the compute role and the two monitors built on it (instance events and QEMU
// guest-agent probing). Mirrors masakari-monitors' [libvirt], [callback] and [introspectiveinstancemonitor].

/** masakari-instancemonitor: every libvirt domain event that matters becomes a VM notification. */
const instanceMonitorSection = z.strictObject({
  enabled: z.boolean().default(false),
});

/** masakari-introspectiveinstancemonitor: guest-ping through the QEMU guest agent. */
const introspectiveMonitorSection = z.strictObject({
  enabled: z.boolean().default(false),
  /** Seconds between two rounds of guest-ping over all running domains with an agent channel. */
  interval: z.number().positive().default(10),
  /** Seconds one guest-ping may take before it counts as a failure (libvirt's agent timeout; whole seconds). */
  timeout: z.number().int().min(1).default(2),
  /** Consecutive failed pings (after the agent has answered once) before QEMU_GUEST_AGENT_ERROR is sent. */
  failure_threshold: z.number().int().min(1).default(3),
});

export const libvirtSection = z.strictObject({
  /** Where the hypervisor is, e.g. qemu:///system, or qemu+unix:///system?socket=/path/libvirt-sock. */
  connection_uri: z.string().min(1).default('qemu:///system'),
  /** libvirt keepalive: a daemon that stops answering is declared gone after interval × (count + 1) seconds. */
  keepalive_interval: z.number().int().min(1).default(5),
  keepalive_count: z.number().int().min(1).default(3),
  /** Seconds between two attempts to reconnect after libvirtd went away. */
  reconnect_interval: seconds(3),
  instance_monitor: instanceMonitorSection.prefault({}),
  introspective_monitor: introspectiveMonitorSection.prefault({}),
});

export type LibvirtConfig = z.infer<typeof libvirtSection>;
