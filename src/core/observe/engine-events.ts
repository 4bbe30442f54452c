// What the recovery engine publishes on the bus, in one place so the engine itself only calls these:
//   notification.process.start|end|error  Masakari's (payload as its NotificationApiPayload; see versioned.ts)
//   notification.status                   every status transition {notification_uuid, status, reason}
//   recovery.task.start|end               {notification_uuid, task, status}
//   recovery.task.progress                {notification_uuid, message, progress}
//   recovery.instance.state               {notification_uuid, instance_uuid, state, ...} per evacuation (vmove)
//                                          and per instance restart step

import type { Notification, NotificationStatus, TaskState, VMove } from '../domain/model.ts';
import type { Store } from '../store/types.ts';
import { notificationData, type FaultData, type Publish } from './events.ts';

const HANDLER: Record<Notification['type'], string> = {
  COMPUTE_HOST: '_handle_notification_type_host',
  VM: '_handle_notification_type_instance',
  PROCESS: '_handle_notification_type_process',
};

/**
 * Masakari's ExceptionPayload for a failed recovery. Masakari passes the error's text as the exception (so
 * `exception` is "str") from its engine manager's handler for the notification type; we have no Python traceback,
 * so `traceback` holds the reason too.
 */
export function recoveryFault(n: Notification, reason: string): FaultData {
  return {
    module_name: 'masakari.engine.manager',
    function_name: HANDLER[n.type],
    exception: 'str',
    exception_message: reason,
    traceback: reason,
  };
}

export class EngineEvents {
  constructor(private readonly publish: Publish) {}

  /** Processing starts: `n` as it was before (status new, or error for the retry). */
  processStart(n: Notification): void {
    this.publish('notification.process.start', { notification: notificationData(n) });
  }

  /**
   * Processing ended. Masakari sends process.end (or .error) before writing the final status, so the payload shows
   * the status the notification had while it ran (`running`); a notification settled without running shows its
   * final status, as Masakari's disabled-segment path does.
   */
  processEnd(n: Notification, final: NotificationStatus, reason: string | null, ranWorkflow: boolean): void {
    const shown = ranWorkflow ? n.status : final;
    if (final === 'error') {
      this.publish('notification.process.error', {
        notification: notificationData(n, { status: shown }),
        fault: recoveryFault(n, reason ?? 'unknown error'),
      });
    } else {
      this.publish('notification.process.end', { notification: notificationData(n, { status: shown }) });
    }
  }

  /**
   * A notification settled without a workflow, with what Masakari 14 sends on the same path: a disabled segment,
   * only process.end with the final status (no start); otherwise process.start (status new), then, as its handler
   * returns, process.end with status running, except for a VM event that needs no recovery, whose handler returns
   * before sending any end.
   */
  settled(n: Notification, final: NotificationStatus, reason: string | null, disabledSegment: boolean): void {
    if (disabledSegment) {
      this.processEnd(n, final, reason, false);
      return;
    }
    this.processStart(n);
    if (n.type !== 'VM') this.processEnd({ ...n, status: 'running' }, final, reason, true);
  }

  status(uuid: string, status: NotificationStatus, reason: string | null): void {
    this.publish('notification.status', { notification_uuid: uuid, status, reason });
  }

  task(n: Notification, task: string, state: TaskState): void {
    if (state === 'RUNNING') this.publish('recovery.task.start', { notification_uuid: n.uuid, task, status: state });
    else this.publish('recovery.task.end', { notification_uuid: n.uuid, task, status: state });
    if (n.type === 'VM') {
      const s = instanceRestartState(task, state);
      if (s) {
        const instance = n.payload.instance_uuid;
        this.publish('recovery.instance.state', {
          notification_uuid: n.uuid,
          instance_uuid: typeof instance === 'string' ? instance : null,
          action: 'restart',
          state: s,
        });
      }
    }
  }

  vmove(v: VMove): void {
    this.publish('recovery.instance.state', {
      notification_uuid: v.notificationUuid,
      instance_uuid: v.instanceUuid,
      instance_name: v.instanceName,
      action: v.type,
      state: v.status,
      source_host: v.sourceHost,
      dest_host: v.destHost,
      message: v.message,
    });
  }

  progress(notificationUuid: string, message: string, progress: number): void {
    this.publish('recovery.task.progress', { notification_uuid: notificationUuid, message, progress });
  }

  /**
   * The store the workflow's tasks get: the same store, with each evacuation record change (vmove) and each
   * progress line also published. The engine's own bookkeeping keeps the plain store.
   */
  observedStore(store: Store): Store {
    return {
      ...store,
      createVMove: async (input, now, fence) => {
        const v = await store.createVMove(input, now, fence);
        this.vmove(v);
        return v;
      },
      updateVMove: async (uuid, patch, now, fence) => {
        const v = await store.updateVMove(uuid, patch, now, fence);
        if (patch.status !== undefined) this.vmove(v);
        return v;
      },
      updateTask: async (notificationUuid, seq, patch, now, fence) => {
        await store.updateTask(notificationUuid, seq, patch, now, fence);
        if (patch.addDetail) this.progress(notificationUuid, patch.addDetail.message, patch.addDetail.progress);
      },
    };
  }
}

/** An instance restart's steps, from the instance flow's tasks (restart: stop, start, confirm active). */
function instanceRestartState(task: string, state: TaskState): string | undefined {
  if (state === 'FAILURE') return 'failed';
  if (task === 'StopInstanceTask' && state === 'RUNNING') return 'stopping';
  if (task === 'StartInstanceTask' && state === 'RUNNING') return 'starting';
  if (task === 'ConfirmInstanceActiveTask' && state === 'SUCCESS') return 'active';
  return undefined;
}
