// Builds the libvirt compute driver from configuration (libvirt_compute, plus libvirt.connection_uri and
// compute.hostname for the one-host lab default). docs/compute.md documents the options.

import { hostname as osHostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../../../core/config/schema.ts';
import type { Logger } from '../../../core/log.ts';
import { LibvirtComputeDriver } from './driver.ts';
import { LibvirtStateStore } from './state-store.ts';

export { LibvirtComputeDriver, DEFAULT_ALLOCATION, type LibvirtComputeOptions } from './driver.ts';
export { LibvirtStateStore } from './state-store.ts';
export { mapDomainState } from './states.ts';
export { haElement, METADATA_KEY, metadataFromElement } from './metadata.ts';

/** host name -> URI: the configured hosts, or this machine alone (named like the local monitors report it). */
export function libvirtHostsOf(config: Config): Record<string, string> {
  const hosts = Object.entries(config.libvirt_compute.hosts);
  if (hosts.length > 0) return Object.fromEntries(hosts.map(([name, h]) => [name, h.uri]));
  return { [config.compute.hostname ?? osHostname()]: config.libvirt.connection_uri };
}

export function createLibvirtComputeDriver(config: Config, log: Logger): LibvirtComputeDriver {
  const c = config.libvirt_compute;
  const statePath = isAbsolute(c.state_path) ? c.state_path : join(config.data_dir, c.state_path);
  const haKeys = [...new Set([config.instance_failure.ha_enabled_instance_metadata_key, config.host_failure.ha_enabled_instance_metadata_key])];
  return new LibvirtComputeDriver({
    hosts: libvirtHostsOf(config),
    metadataNamespace: c.metadata_namespace,
    haKeys,
    haEnabledDefault: c.ha_enabled_default,
    state: new LibvirtStateStore(statePath),
    connectTimeoutMs: c.connect_timeout * 1000,
    inventoryIntervalMs: c.inventory_interval * 1000,
    log: log.child({ component: 'libvirt-compute' }),
    allocation: { cpuAllocationRatio: c.cpu_allocation_ratio, ramAllocationRatio: c.ram_allocation_ratio, reservedHostMemoryMb: c.reserved_host_memory_mb },
  });
}
