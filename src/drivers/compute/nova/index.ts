// The Nova compute driver, built from the `openstack:` config section.
import type { OpenstackConfig } from '../../../core/config/sections/openstack.ts';
import { createOpenStackClient, type ClientDeps, type OpenStackClient } from '../../openstack/client.ts';
import { NovaComputeDriver } from './driver.ts';

export { NovaComputeDriver, type NovaDriverOptions } from './driver.ts';

export function createNovaDriver(config: OpenstackConfig, deps: ClientDeps = {}): { driver: NovaComputeDriver; client: OpenStackClient } {
  const client = createOpenStackClient(config, deps);
  const driver = new NovaComputeDriver({
    request: client.request,
    serviceUpdateTimeoutMs: config.service_update_timeout * 1000,
    pageSize: config.nova.page_size,
  });
  return { driver, client };
}
