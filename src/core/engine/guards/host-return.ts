// Host return: a host that failed, was fenced and recovered comes back (the host monitor reports COMPUTE_HOST
// STARTED once it is stably online). With host_failure.auto_unset_maintenance_on_return it is taken out of
// maintenance, so it takes VMs again. Masakari leaves this to the operator, and so does the default.
//
// Only a maintenance flag that the engine itself set is undone: the host's latest STOPPED notification before
// this one must have been recovered (finished), and the host must not have been changed since that recovery
// ended (an operator who put it on maintenance afterwards, or edited it, keeps it there).

import type { Host, Notification } from '../../domain/model.ts';
import type { Logger } from '../../log.ts';
import { failureEvent } from '../event.ts';
import type { GuardDeps } from './mass-failure.ts';

export type ReturnVerdict = { unset: true; because: string } | { unset: false; because: string };

/** Pure: whether a STARTED host's maintenance flag is ours to clear. `lastStop`: its latest STOPPED before now. */
export function hostReturnVerdict(host: Host, lastStop: Notification | undefined, enabled: boolean): ReturnVerdict {
  if (!enabled) return { unset: false, because: 'host_failure.auto_unset_maintenance_on_return is false' };
  if (!host.onMaintenance) return { unset: false, because: `host ${host.name} is not on maintenance` };
  if (!lastStop) return { unset: false, because: `no host failure of ${host.name} is on record: its maintenance was set by an operator` };
  if (lastStop.status !== 'finished') {
    return { unset: false, because: `the last failure of ${host.name} (notification ${lastStop.uuid}) ended '${lastStop.status}', not recovered` };
  }
  const recoveredAt = lastStop.updatedAt?.getTime() ?? lastStop.createdAt.getTime();
  const hostChangedAt = host.updatedAt?.getTime() ?? host.createdAt.getTime();
  if (hostChangedAt > recoveredAt) {
    return { unset: false, because: `host ${host.name} was changed after its recovery ended: its maintenance is the operator's` };
  }
  return { unset: true, because: `host ${host.name} is back after the recovery of notification ${lastStop.uuid}` };
}

async function lastStopBefore(d: GuardDeps, host: Host, n: Notification): Promise<Notification | undefined> {
  const page = await d.store.listNotifications({
    filters: { type: 'COMPUTE_HOST', sourceHostUuid: host.uuid },
    sort: [{ key: 'generated_time', dir: 'desc' }],
    limit: 50,
  });
  return page.find((x) => x.uuid !== n.uuid && failureEvent(x).event === 'STOPPED' && x.generatedTime.getTime() <= n.generatedTime.getTime());
}

/** Hook for COMPUTE_HOST STARTED (host_status NORMAL): clears the maintenance flag when it is ours to clear. */
export async function hostReturned(d: GuardDeps, n: Notification, host: Host, log: Logger = d.log): Promise<void> {
  const enabled = d.config.host_failure.auto_unset_maintenance_on_return;
  if (!enabled || !host.onMaintenance) return;
  const v = hostReturnVerdict(host, await lastStopBefore(d, host, n), enabled);
  if (!v.unset) {
    log.info({ notification: n.uuid, host: host.name }, `host ${host.name} is back online; left on maintenance: ${v.because}`);
    return;
  }
  await d.store.updateHost(host.uuid, { onMaintenance: false }, d.env.now());
  log.info({ notification: n.uuid, host: host.name }, `host ${host.name} is back online: taken out of maintenance (${v.because})`);
}
