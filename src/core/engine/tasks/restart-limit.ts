// instance_restart_limit_task: refuses to restart a VM that was already restarted max_restarts times within
// window_seconds (config instance_restart_limit). A VM that crashes on every boot would otherwise be restarted
// forever, each restart hiding the crash loop from the operator. Kept out of Masakari's default task list (so
// Masakari-compatible flows are unchanged); --role=all runs it first in the instance flow.
//
// A "restart" is an earlier VM notification for the same instance, generated within the window, whose
// StartInstanceTask succeeded: skipped, ignored or failed recoveries do not count.

import { RecoveryFailure } from '../errors.ts';
import { failureEvent } from '../event.ts';
import type { RecoveryTask } from '../task.ts';

const LOOKBACK_LIMIT = 1000;

export const instanceRestartLimitTask: RecoveryTask = {
  displayName: 'InstanceRestartLimitTask',
  inputs: ['instance_uuid'],
  async execute(ctx) {
    const id = ctx.input('instance_uuid');
    const { max_restarts: max, window_seconds: window } = ctx.config.instance_restart_limit;
    const since = new Date(ctx.env.nowMs() - window * 1000);
    const recent = await ctx.store.listNotifications({
      filters: { type: 'VM', generatedSince: since, status: 'finished' },
      sort: [{ key: 'generated_time', dir: 'desc' }],
      limit: LOOKBACK_LIMIT,
    });
    let restarts = 0;
    for (const n of recent) {
      const earlier = failureEvent(n);
      if (n.uuid === ctx.notification.uuid || earlier.type !== 'VM' || earlier.instanceUuid !== id) continue;
      const tasks = await ctx.store.listTasks(n.uuid);
      if (tasks.some((t) => t.name === 'StartInstanceTask' && t.state === 'SUCCESS')) restarts++;
    }
    if (restarts >= max) {
      const msg =
        `Instance ${id} was restarted ${restarts} times in the last ${window} seconds (instance_restart_limit.max_restarts ` +
        `${max}): not restarting it again; it is left stopped for an operator to look at`;
      await ctx.update(msg, 1.0);
      throw new RecoveryFailure(msg);
    }
    await ctx.update(`Instance ${id}: ${restarts} restart(s) in the last ${window} seconds, limit ${max}`, 1.0);
  },
};
