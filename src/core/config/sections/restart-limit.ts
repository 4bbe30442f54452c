import { z } from 'zod';
import { seconds } from '../types.ts';

// A VM that dies on every boot must not be restarted forever (vSphere's VM monitoring resets a VM at most 3 times
// per window, then leaves it alone). Enforced by the instance workflow's instance_restart_limit_task
// (src/core/engine/tasks/restart-limit.ts), for every compute driver; --role=all puts that task first in
// instance_failure_recovery_tasks.pre, other roles add it there to enable it.

export const instanceRestartLimitSection = z.strictObject({
  /** Restarts of one VM allowed within window_seconds; the next failure ends in `error` and leaves the VM alone. */
  max_restarts: z.number().int().min(1).default(3),
  /** Sliding window, by the failures' generated_time. */
  window_seconds: seconds(3600),
});
