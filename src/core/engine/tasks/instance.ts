// Instance-failure tasks (a VM died on a live host): stop it, start it, confirm it is active. Masakari's messages.

import { ComputeDriverError } from '../../ports/compute.ts';
import { IgnoreRecovery, RecoveryFailure, SkipRecovery } from '../errors.ts';
import type { RecoveryTask } from '../task.ts';
import { boolFromString, waitFor } from './util.ts';

export const stopInstanceTask: RecoveryTask = {
  displayName: 'StopInstanceTask',
  inputs: ['instance_uuid'],
  async execute(ctx) {
    const id = ctx.input('instance_uuid');
    const cfg = ctx.config.instance_failure;
    const s = await ctx.compute.getServer(id);
    if (!cfg.process_all_instances && !boolFromString(s.metadata[cfg.ha_enabled_instance_metadata_key])) {
      const msg = `Skipping recovery for instance: ${id} as it is not Ha_Enabled`;
      await ctx.update(msg, 1.0);
      throw new SkipRecovery(msg);
    }
    if (s.vmState === 'paused' || s.vmState === 'rescued') {
      const msg = `Recovery of instance '${id}' is ignored as it is in '${s.vmState}' state.`;
      await ctx.update(msg, 1.0);
      throw new IgnoreRecovery(msg);
    }
    if (s.vmState !== 'stopped') {
      if (s.vmState === 'resized') await ctx.compute.resetServerState(id, 'active');
      await ctx.update(`Stopping instance: ${id}`);
      try {
        // A stop already under way (e.g. issued before a crash) is not asked for again.
        if (s.taskState !== 'powering-off') await ctx.compute.stopServer(id);
      } catch (e) {
        if (!(e instanceof ComputeDriverError && e.code === 'conflict')) throw e;
        await ctx.update(`Conflict when stopping instance: ${id}`);
        if ((await ctx.compute.getServer(id)).vmState !== 'stopped') throw e;
      }
    }
    const stopped = await waitFor(ctx, ctx.config.engine.wait_period_after_power_off, async () => (await ctx.compute.getServer(id)).vmState === 'stopped');
    if (!stopped) {
      const msg = `Failed to stop instance ${id}`;
      await ctx.update(msg, 1.0);
      throw new RecoveryFailure(msg);
    }
    await ctx.update(`Stopped instance: '${id}'`, 1.0);
  },
};

export const startInstanceTask: RecoveryTask = {
  displayName: 'StartInstanceTask',
  inputs: ['instance_uuid'],
  async execute(ctx) {
    const id = ctx.input('instance_uuid');
    await ctx.update(`Starting instance: '${id}'`);
    const s = await ctx.compute.getServer(id);
    // Resumed after a crash that followed our start call: the start is already done or under way.
    const startedBefore = (ctx.checkpoint as { started?: boolean } | undefined)?.started === true;
    if (s.vmState === 'stopped' && s.taskState !== 'powering-on') {
      await ctx.saveCheckpoint({ started: true });
      await ctx.compute.startServer(id);
    } else if (!(startedBefore && (s.vmState === 'active' || s.taskState === 'powering-on'))) {
      const msg = `Invalid state for Instance ${id}. Expected state: 'STOPPED', Actual state: '${s.vmState}'`;
      await ctx.update(msg, 1.0);
      throw new RecoveryFailure(msg);
    }
    await ctx.update(`Instance started: '${id}'`, 1.0);
  },
};

export const confirmInstanceActiveTask: RecoveryTask = {
  displayName: 'ConfirmInstanceActiveTask',
  inputs: ['instance_uuid'],
  async execute(ctx) {
    const id = ctx.input('instance_uuid');
    await ctx.update(`Confirming instance '${id}' vm_state is ACTIVE`);
    const active = await waitFor(ctx, ctx.config.engine.wait_period_after_power_on, async () => (await ctx.compute.getServer(id)).vmState === 'active');
    if (!active) {
      const msg = `Failed to start instance ${id}`;
      await ctx.update(msg, 1.0);
      throw new RecoveryFailure(msg);
    }
    await ctx.update(`Confirmed instance '${id}' vm_state is ACTIVE`, 1.0);
  },
};
