import { z } from 'zod';

// The libvirt recovery driver (controller.compute_driver: libvirt): which libvirt hosts the controller recovers VMs
// on, and how it recognises an HA-enabled domain. Kept apart from the `libvirt` section, which configures the
// compute role's monitors (one local connection); this one is the controller's view of every host.
// docs/lab.md ("The libvirt compute driver") explains each option.

const hostEntry = z.strictObject({
  /** libvirt URI of this host: qemu:///system locally, qemu+ssh://root@peer/system or qemu+tcp://peer/system. */
  uri: z.string().min(1),
});

export const libvirtComputeSection = z.strictObject({
  /**
   * Host name (as monitors report it and as registered in Masakari) -> connection. Empty: one host, this machine,
   * named compute.hostname (or the OS hostname) and reached through libvirt.connection_uri: the lab default.
   */
  hosts: z.record(z.string().min(1), hostEntry).default({}),
  /** XML namespace of our <metadata> element; `virsh metadata DOMAIN --uri NS --key masakari --set '<ha enabled="true"/>'`. */
  metadata_namespace: z.string().min(1).default('http://masakari.dev/xmlns/libvirt/1.0'),
  /**
   * The fallback when a domain has no element in metadata_namespace: true treats it as HA-enabled (the lab's
   * "protect every domain" flag), false as not (only marked domains are recovered).
   */
  ha_enabled_default: z.boolean().default(false),
  /**
   * Where the controller keeps what libvirt cannot: compute-service state (disabled, forced down), locks, reset
   * states, which host a domain was evacuated to, and each host's domain XML as last seen (for evacuation).
   * Relative to data_dir.
   */
  state_path: z.string().min(1).default('libvirt-compute-state.json'),
  /** Seconds between two refreshes of every host's domain XML (0: only when the engine asks). */
  inventory_interval: z.number().min(0).default(30),
  /** Seconds a connection attempt to a host may take before the host counts as down. */
  connect_timeout: z.number().positive().default(10),
  /** vCPUs that may be allocated per host CPU (Nova's initial_cpu_allocation_ratio): the host's room for evacuations. */
  cpu_allocation_ratio: z.number().positive().default(4),
  /** MiB of guest memory that may be allocated per MiB of host memory (Nova's initial_ram_allocation_ratio). */
  ram_allocation_ratio: z.number().positive().default(1),
  /** Host memory (MiB) kept for the host itself, not allocatable to domains (Nova's reserved_host_memory_mb). */
  reserved_host_memory_mb: z.number().int().min(0).default(512),
});

export type LibvirtComputeConfig = z.infer<typeof libvirtComputeSection>;
