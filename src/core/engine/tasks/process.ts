// Process-failure tasks (nova-compute died on a live host): disable its service so nothing is scheduled there,
// then confirm Nova reports it disabled. Masakari's messages.

import { RecoveryFailure } from '../errors.ts';
import type { RecoveryTask } from '../task.ts';
import { waitFor } from './util.ts';

export const disableComputeNodeTask: RecoveryTask = {
  displayName: 'DisableComputeNodeTask',
  inputs: ['host_name', 'process_name'],
  async execute(ctx) {
    const host = ctx.input('host_name');
    const binary = ctx.input('process_name');
    await ctx.update(`Disabling compute service on host: '${host}'`);
    const svc = await ctx.compute.getComputeService(host, binary);
    if (svc.status !== 'disabled') {
      await ctx.compute.disableComputeService(host, ctx.config.process_failure.service_disable_reason, binary);
      await ctx.update(`Disabled compute service on host: '${host}'`, 1.0);
    } else {
      await ctx.update(`Skipping recovery for process ${binary} as it is already disabled`, 1.0);
    }
  },
};

export const confirmComputeNodeDisabledTask: RecoveryTask = {
  displayName: 'ConfirmComputeNodeDisabledTask',
  inputs: ['host_name', 'process_name'],
  async execute(ctx) {
    const host = ctx.input('host_name');
    const binary = ctx.input('process_name');
    await ctx.update(`Confirming compute service is disabled on host: '${host}'`);
    const ok = await waitFor(
      ctx,
      ctx.config.engine.wait_period_after_service_update,
      async () => (await ctx.compute.getComputeService(host, binary)).status === 'disabled',
    );
    if (!ok) {
      const msg = `Failed to disable service ${binary}`;
      await ctx.update(msg, 1.0);
      throw new RecoveryFailure(msg);
    }
    await ctx.update(`Confirmed compute service is disabled on host: '${host}'`, 1.0);
  },
};
