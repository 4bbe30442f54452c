// Dispatch by notification type and event (Masakari's engine manager), and the mapping of a workflow's end onto a
// final status. Runs inside a claimed notification already marked running.

import type { Host, Notification, NotificationStatus, Segment } from '../domain/model.ts';
import type { Env } from '../env.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { isAbort, outcomeKind } from './errors.ts';
import { isRecoverableVmEvent, type FailureEvent } from './event.ts';
import type { ResolvedFlows } from './registry.ts';
import type { FlowRunner } from './runner.ts';
import { reservedHostsForRecovery } from './rules.ts';
import { runHostFlow } from './workflows/host.ts';
import { runInstanceFlow } from './workflows/instance.ts';
import { runProcessFlow } from './workflows/process.ts';

export interface Outcome {
  status: Extract<NotificationStatus, 'finished' | 'ignored' | 'error'>;
  reason: string | null;
}

export interface DispatchDeps {
  store: Store;
  env: Env;
  log: Logger;
  flows: ResolvedFlows;
}

async function setMaintenance(d: DispatchDeps, host: Host, clearReserved: boolean): Promise<void> {
  const patch: { onMaintenance?: boolean; reserved?: boolean } = {};
  if (!host.onMaintenance) patch.onMaintenance = true;
  if (clearReserved && host.reserved) patch.reserved = false;
  if (Object.keys(patch).length === 0) return;
  d.log.info({ host: host.name }, `Set host ${host.name} on maintenance.`);
  await d.store.updateHost(host.uuid, patch, d.env.now());
}

/** Runs a flow and turns how it ended into a status (Masakari's exception handling in the manager). */
async function outcomeOf(kind: string, n: Notification, flow: () => Promise<void>): Promise<Outcome> {
  try {
    await flow();
    return { status: 'finished', reason: null };
  } catch (e) {
    if (isAbort(e)) throw e;
    const ending = outcomeKind(e);
    const message = e instanceof Error ? e.message : String(e);
    if (ending === 'skip') return { status: 'finished', reason: message };
    if (ending === 'ignore') return { status: 'ignored', reason: message };
    if (ending === 'failure') return { status: 'error', reason: message };
    const cause = e instanceof Error ? e.message : String(e);
    return { status: 'error', reason: `Failed to execute ${kind} failure flow for notification '${n.uuid}'. ${cause}` };
  }
}

/** The status a disabled segment's notifications end in (Masakari's wording, typo included). */
export const DISABLED_SEGMENT_OUTCOME: Outcome = { status: 'ignored', reason: 'Recovery aboart: the segment HA is disabled.' };

/**
 * The outcomes that follow from the notification alone: no host state, no workflow, no host guard (guards/ act
 * only on COMPUTE_HOST NORMAL STOPPED/STARTED, which are never decided here). null: a workflow (or a guard) decides.
 * The engine settles these in one write, without claiming the notification first.
 */
export function decideAtOnce(n: Notification, ev: FailureEvent): Outcome | null {
  if (ev.type === 'PROCESS') {
    if (ev.event === 'STARTED') return { status: 'finished', reason: null };
    if (ev.event !== 'STOPPED') return { status: 'ignored', reason: `Invalid event: ${ev.eventText} received for notification type: ${ev.type}` };
    return null;
  }
  if (ev.type === 'VM') {
    return isRecoverableVmEvent(ev)
      ? null
      : { status: 'ignored', reason: `Notification '${n.uuid}' received with payload ${JSON.stringify(n.payload)} is ignored.` };
  }
  // COMPUTE_HOST
  if (ev.hostStatus === undefined) return { status: 'ignored', reason: `Notification '${n.uuid}' ignored as host_status is not provided.` };
  if (ev.hostStatus !== 'NORMAL') return { status: 'ignored', reason: `Notification '${n.uuid}' ignored as host_status is '${ev.hostStatus}'` };
  if (ev.event !== 'STOPPED' && ev.event !== 'STARTED') {
    return { status: 'ignored', reason: `Invalid event: ${ev.eventText} received for notification type: ${ev.type}` };
  }
  return null;
}

export async function dispatch(d: DispatchDeps, n: Notification, ev: FailureEvent, host: Host, segment: Segment, runner: FlowRunner): Promise<Outcome> {
  const base = { notification_uuid: n.uuid };
  // Reached for these only when a resumed or retried run finds them (the engine settles new ones at once).
  const atOnce = decideAtOnce(n, ev);
  if (atOnce) return atOnce;

  if (ev.type === 'PROCESS') {
    await setMaintenance(d, host, false);
    return outcomeOf('process', n, () => runProcessFlow(runner, d.flows, { ...base, host_name: host.name, process_name: ev.processName }));
  }

  if (ev.type === 'VM') {
    return outcomeOf('instance', n, () => runInstanceFlow(runner, d.flows, { ...base, instance_uuid: ev.instanceUuid, host_name: host.name }));
  }

  // COMPUTE_HOST, host_status NORMAL
  if (ev.event === 'STARTED') return { status: 'finished', reason: null };
  await setMaintenance(d, host, true);

  // The reserved host list is fixed when the run starts: a resumed run must see the same list, although it may
  // already have un-reserved the host it enabled.
  let reservedHosts = runner.meta.reservedHosts as string[] | undefined;
  if (!reservedHosts) {
    reservedHosts =
      segment.recoveryMethod === 'auto' ? [] : reservedHostsForRecovery(segment.recoveryMethod, await d.store.listHostsOfSegment(segment.uuid), host.name);
    runner.meta = { ...runner.meta, reservedHosts };
  }
  return outcomeOf('host', n, () =>
    runHostFlow(runner, d.flows, { hostName: host.name, method: segment.recoveryMethod, reservedHosts: reservedHosts }, d.log, {
      ...base,
      host_name: host.name,
    }),
  );
}
