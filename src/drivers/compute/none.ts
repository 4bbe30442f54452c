// The compute driver used when none is configured (controller.compute_driver: none): the API accepts every host name
// and notifications, and any recovery step fails with one clear reason instead of guessing at a backend.

import { ComputeDriverError, type ComputeDriver } from '../../core/ports/compute.ts';

const refuse = async (): Promise<never> => {
  throw new ComputeDriverError('unsupported', 'no compute driver is configured (controller.compute_driver: none): set it to nova or libvirt to recover VMs');
};

export const noComputeDriver: ComputeDriver = {
  name: 'none',
  hostExists: async () => true,
  listServersOnHost: refuse,
  getServer: refuse,
  stopServer: refuse,
  startServer: refuse,
  resetServerState: refuse,
  lockServer: refuse,
  unlockServer: refuse,
  evacuateServer: refuse,
  latestEvacuation: refuse,
  getComputeService: refuse,
  disableComputeService: refuse,
  enableComputeService: refuse,
  setComputeServiceForcedDown: refuse,
  listAggregates: refuse,
  addHostToAggregate: refuse,
  hostCapacity: refuse,
};
