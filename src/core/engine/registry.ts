// Task lists of each flow, from [taskflow_driver_recovery_flows]: built-in task names (Masakari's entry-point
// names) and custom tasks loaded from modules (custom_task_modules: name -> module path). Resolved once at
// engine start, so a typo stops startup instead of failing the first recovery.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config } from '../config/schema.ts';
import { AppError, errorMessage } from '../errors.ts';
import type { RecoveryTask } from './task.ts';
import { disableComputeServiceTask, prepareHAEnabledInstancesTask } from './tasks/host.ts';
import { evacuateInstancesTask } from './tasks/evacuate.ts';
import { confirmInstanceActiveTask, startInstanceTask, stopInstanceTask } from './tasks/instance.ts';
import { confirmComputeNodeDisabledTask, disableComputeNodeTask } from './tasks/process.ts';
import { instanceRestartLimitTask } from './tasks/restart-limit.ts';

export const BUILTIN_TASKS: Record<string, RecoveryTask> = {
  disable_compute_service_task: disableComputeServiceTask,
  prepare_HA_enabled_instances_task: prepareHAEnabledInstancesTask,
  evacuate_instances_task: evacuateInstancesTask,
  stop_instance_task: stopInstanceTask,
  start_instance_task: startInstanceTask,
  confirm_instance_active_task: confirmInstanceActiveTask,
  disable_compute_node_task: disableComputeNodeTask,
  confirm_compute_node_disabled_task: confirmComputeNodeDisabledTask,
  /** Not in any default flow: see tasks/restart-limit.ts. */
  instance_restart_limit_task: instanceRestartLimitTask,
};

export interface FlowTasks {
  pre: RecoveryTask[];
  main: RecoveryTask[];
  post: RecoveryTask[];
}

export interface ResolvedFlows {
  hostAuto: FlowTasks;
  hostRh: FlowTasks;
  instance: FlowTasks;
  process: FlowTasks;
}

/** The task lists in the config name a task that does not exist or a module that does not export one. */
export class TaskConfigError extends AppError {
  readonly code = 'TASK_CONFIG_INVALID';
}

function isTask(v: unknown): v is RecoveryTask {
  return typeof v === 'object' && v !== null && typeof (v as RecoveryTask).displayName === 'string' && typeof (v as RecoveryTask).execute === 'function';
}

async function loadCustom(name: string, path: string, baseDir: string): Promise<RecoveryTask> {
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(full).href)) as Record<string, unknown>;
  } catch (e) {
    throw new TaskConfigError(`custom task '${name}': cannot load module ${full}: ${errorMessage(e)}`);
  }
  const task = mod.default ?? mod.task;
  if (!isTask(task)) {
    throw new TaskConfigError(`custom task '${name}': module ${full} must export (default or 'task') an object with displayName and execute()`);
  }
  return task;
}

/** `baseDir`: where relative module paths start (the config file's directory). */
export async function resolveFlows(config: Config, baseDir = process.cwd()): Promise<ResolvedFlows> {
  const cfg = config.taskflow_driver_recovery_flows;
  const known: Record<string, RecoveryTask> = { ...BUILTIN_TASKS };
  for (const [name, path] of Object.entries(cfg.custom_task_modules)) known[name] = await loadCustom(name, path, baseDir);
  const pick = (flow: string, phase: string, names: string[]) =>
    names.map((n) => {
      const t = known[n];
      if (!t) {
        throw new TaskConfigError(
          `taskflow_driver_recovery_flows.${flow}.${phase}: unknown task '${n}' (built-in: ${Object.keys(BUILTIN_TASKS).join(', ')}; ` +
            `or name a module in taskflow_driver_recovery_flows.custom_task_modules)`,
        );
      }
      return t;
    });
  const flow = (key: keyof Omit<typeof cfg, 'custom_task_modules'>): FlowTasks => ({
    pre: pick(key, 'pre', cfg[key].pre),
    main: pick(key, 'main', cfg[key].main),
    post: pick(key, 'post', cfg[key].post),
  });
  return {
    hostAuto: flow('host_auto_failure_recovery_tasks'),
    hostRh: flow('host_rh_failure_recovery_tasks'),
    instance: flow('instance_failure_recovery_tasks'),
    process: flow('process_failure_recovery_tasks'),
  };
}
