// Mass-failure guard: when more than a configured share of a segment's hosts failed within a window, the failures
// are most likely one cause (a network partition, a switch, a power feed), and evacuating would pile half the
// cloud onto the other half, or onto hosts that are themselves about to be declared dead. Red Hat's InstanceHA
// stops evacuating above 50% for the same reason. The host recovery then ends in `error` with a reason saying so;
// nothing is touched (no maintenance flag, no service disabled), so a retry later (the engine's periodic retry, or
// an operator) starts from a clean state and is judged again with the failures then known.
//
// The decision is a pure function (massFailureVerdict); massFailureGuard() gathers its input from the store. A pause
// is recorded as a failed MassFailureGuardTask step, so the reason also shows in the notification's progress; a
// failure let through leaves no trace (the task list stays Masakari's).

import type { Config } from '../../config/schema.ts';
import type { Host, Notification, Segment } from '../../domain/model.ts';
import type { Env } from '../../env.ts';
import type { Logger } from '../../log.ts';
import type { Store } from '../../store/types.ts';
import { RecoveryFailure } from '../errors.ts';
import { failureEvent, isHostDown } from '../event.ts';
import type { FlowRunner } from '../runner.ts';
import type { RecoveryTask } from '../task.ts';
import type { EngineMetrics } from '../../observe/metric-set.ts';

export interface MassFailureInput {
  segmentName: string;
  /** Names of every host of the segment. */
  segmentHosts: string[];
  /** Names of the segment's hosts with a host failure (STOPPED, NORMAL) within the window, this one included. */
  failedHosts: string[];
  maxFailedShare: number;
  /** Fewer failed hosts than this never pause, whatever their share: one host alone in its segment is one failure. */
  minFailedHosts: number;
  windowSeconds: number;
}

export interface GuardOutcome {
  status: 'error';
  reason: string;
}

export type MassFailureVerdict = { paused: false; detail: string } | { paused: true; reason: string };

export function massFailureVerdict(i: MassFailureInput): MassFailureVerdict {
  const members = new Set(i.segmentHosts);
  const failed = [...new Set(i.failedHosts)].filter((h) => members.has(h)).sort();
  const total = members.size;
  const summary = `${failed.length} of ${total} hosts of segment ${i.segmentName} failed within ${i.windowSeconds} s`;
  if (failed.length < i.minFailedHosts) {
    return { paused: false, detail: `${summary} (fewer than ${i.minFailedHosts} failed hosts never pause evacuations)` };
  }
  if (total === 0 || failed.length / total <= i.maxFailedShare) {
    return { paused: false, detail: `${summary} (at most ${Math.round(i.maxFailedShare * 100)}% may fail before evacuations pause)` };
  }
  return {
    paused: true,
    reason:
      `Evacuation paused: ${summary} (${failed.join(', ')}), more than ${Math.round(i.maxFailedShare * 100)}%: ` +
      `probably a partition or a shared failure rather than failed hosts. Nothing was evacuated; ` +
      `send the host's notification again once the cause is understood.`,
  };
}

/**
 * The segment's hosts with a STOPPED/NORMAL host failure generated within the last `windowMs` before `now`. Anchored on
 * the time of judgement, not on the notification: a retry long after the burst is judged on what fails then.
 */
export async function failedHostsSince(store: Store, hostsByUuid: Map<string, string>, now: Date, windowMs: number): Promise<string[]> {
  const out = new Set<string>();
  let marker: number | undefined;
  for (;;) {
    const page = await store.listNotifications({
      filters: { type: 'COMPUTE_HOST', generatedSince: new Date(now.getTime() - windowMs) },
      sort: [{ key: 'created_at', dir: 'asc' }],
      limit: 1000,
      ...(marker !== undefined ? { marker } : {}),
    });
    for (const x of page) {
      const host = hostsByUuid.get(x.sourceHostUuid);
      // Only failures reported as down (host_status NORMAL): a STOPPED/UNKNOWN is a host that left its cluster cleanly
      // (planned maintenance, rolling upgrades) or whose state is unknown; the engine never evacuates those, and
      // counting them would pause real recoveries during a maintenance window.
      if (host && isHostDown(failureEvent(x))) out.add(host);
    }
    if (page.length < 1000) return [...out];
    marker = page[page.length - 1]!.id;
  }
}

/** Records the pause as a failed step, so the reason shows in the notification's progress (API 1.1). */
const pausedTask = (reason: string): RecoveryTask => ({
  displayName: 'MassFailureGuardTask',
  async execute(ctx) {
    ctx.log.error({ notification: ctx.notification.uuid, host: ctx.values.host_name }, reason);
    await ctx.update(reason, 1.0);
    throw new RecoveryFailure(reason);
  },
});

export interface GuardDeps {
  store: Store;
  env: Env;
  config: Config;
  log: Logger;
  metrics?: EngineMetrics;
}

/**
 * For a host failure that would be evacuated: the error outcome when the segment's evacuations are paused, null
 * to go on. Nothing is recorded when the guard lets it pass (the task list stays Masakari's).
 */
export async function massFailureGuard(d: GuardDeps, runner: FlowRunner, n: Notification, host: Host, segment: Segment): Promise<GuardOutcome | null> {
  const cfg = d.config.cluster_safety.mass_failure;
  if (!cfg.enabled) return null;
  // A run resumed after a controller crash was let through when it started (a paused run ends at once and is never
  // resumed): pausing it now would leave an evacuation half done.
  if (runner.resuming) return null;
  const hosts = await d.store.listHostsOfSegment(segment.uuid);
  const byUuid = new Map(hosts.map((h) => [h.uuid, h.name]));
  const failed = await failedHostsSince(d.store, byUuid, d.env.now(), cfg.window_seconds * 1000);
  const v = massFailureVerdict({
    segmentName: segment.name,
    segmentHosts: hosts.map((h) => h.name),
    failedHosts: [...failed, host.name],
    maxFailedShare: cfg.max_failed_share,
    minFailedHosts: cfg.min_failed_hosts,
    windowSeconds: cfg.window_seconds,
  });
  if (!v.paused) {
    d.log.debug({ notification: n.uuid, host: host.name }, v.detail);
    return null;
  }
  d.metrics?.massFailurePauses.inc();
  try {
    await runner.step('host.mass-failure-guard', pausedTask(v.reason), { notification_uuid: n.uuid, host_name: host.name }, { revertible: false });
  } catch (e) {
    if (!(e instanceof RecoveryFailure)) throw e;
  }
  return { status: 'error', reason: v.reason };
}
