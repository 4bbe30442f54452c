// The estimated makespan of a host recovery's evacuations: how long until the last planned instance runs again.
// One evacuation takes the median of the recently measured ones (stored vmoves of finished host recoveries, start to
// end), or DEFAULT_EVACUATION_SECONDS when there are none. The evacuations of one flow run on the engine's workers
// with its per-target cap (the same numbers, from engine/rules.ts), the flows one after another.

import type { Config } from '../../config/schema.ts';
import { evacuationConcurrency } from '../../engine/rules.ts';
import type { Store } from '../../store/types.ts';

/** Seconds per evacuation when nothing was measured yet: a rebuild on a new host plus the engine's confirmation. */
export const DEFAULT_EVACUATION_SECONDS = 60;
/** How many recent host recoveries the measurement looks at. */
const RECENT_RECOVERIES = 20;

export interface EvacuationTime {
  seconds: number;
  samples: number;
}

/** The median duration of the succeeded evacuations of the most recent host recoveries. */
export async function measuredEvacuationTime(store: Store): Promise<EvacuationTime> {
  const recent = await store.listNotifications({
    filters: { type: 'COMPUTE_HOST' },
    sort: [{ key: 'created_at', dir: 'desc' }],
    limit: RECENT_RECOVERIES,
  });
  const durations: number[] = [];
  for (const n of recent) {
    const moves = await store.listVMoves({
      filters: { notificationUuid: n.uuid, status: 'succeeded' },
      sort: [{ key: 'created_at', dir: 'asc' }],
      limit: 1000,
    });
    for (const m of moves) {
      if (m.startTime && m.endTime && m.endTime >= m.startTime) durations.push((m.endTime.getTime() - m.startTime.getTime()) / 1000);
    }
  }
  if (durations.length === 0) return { seconds: DEFAULT_EVACUATION_SECONDS, samples: 0 };
  durations.sort((a, b) => a - b);
  const mid = Math.floor(durations.length / 2);
  const median = durations.length % 2 ? durations[mid]! : (durations[mid - 1]! + durations[mid]!) / 2;
  return { seconds: median, samples: durations.length };
}

/** One flow's evacuations: the targets (undefined: the scheduler's) in the order the workers take them. */
export interface PlannedStage {
  reservedHost: string | undefined;
  instances: number;
}

/**
 * List scheduling as the evacuation task does it: each instance, in order, starts when a worker is free and (for a
 * reserved host) a slot of the per-target cap is free; every evacuation takes `seconds`.
 */
export function stageSeconds(config: Config, stage: PlannedStage, seconds: number): number {
  if (stage.instances === 0) return 0;
  const c = evacuationConcurrency(config, stage.instances, stage.reservedHost);
  const workers = new Array<number>(c.workers).fill(0);
  const slots = c.perTarget > 0 ? new Array<number>(c.perTarget).fill(0) : undefined;
  let end = 0;
  for (let i = 0; i < stage.instances; i++) {
    const w = workers.indexOf(Math.min(...workers));
    const s = slots ? slots.indexOf(Math.min(...slots)) : -1;
    const start = Math.max(workers[w]!, slots ? slots[s]! : 0);
    const done = start + seconds;
    workers[w] = done;
    if (slots) slots[s] = done;
    end = Math.max(end, done);
  }
  return end;
}
