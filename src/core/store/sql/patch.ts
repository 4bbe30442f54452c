// PATCH requests as one UPDATE: the columns a patch may set, in a fixed order so that each patch shape yields one
// SQL text (prepared once), and the SET clause with its parameters. Both dialects.

import type { HostPatch, SegmentPatch, VMovePatch } from '../types.ts';
import { us } from './rows.ts';

type Patchable<P> = readonly (readonly [keyof P, string, (v: unknown) => unknown])[];

const asIs = (v: unknown) => v;
const flag = (v: unknown) => (v ? 1 : 0);
const timeOrNull = (v: unknown) => (v === null ? null : us(v as Date));

export const segmentPatchable: Patchable<SegmentPatch> = [
  ['name', 'name', asIs],
  ['description', 'description', (v) => v ?? null],
  ['recoveryMethod', 'recovery_method', asIs],
  ['serviceType', 'service_type', asIs],
  ['enabled', 'enabled', flag],
];

export const hostPatchable: Patchable<HostPatch> = [
  ['name', 'name', asIs],
  ['type', 'type', asIs],
  ['controlAttributes', 'control_attributes', asIs],
  ['reserved', 'reserved', flag],
  ['onMaintenance', 'on_maintenance', flag],
];

export const vmovePatchable: Patchable<VMovePatch> = [
  ['destHost', 'dest_host', asIs],
  ['startTime', 'start_time', timeOrNull],
  ['endTime', 'end_time', timeOrNull],
  ['status', 'status', asIs],
  ['message', 'message', asIs],
];

/** `a = ?, b = ?, updated_at = ?` for the fields the patch has (undefined = absent; null clears) and their values. */
export function setClause<P>(patchable: Patchable<P>, patch: P, now: Date): { set: string; params: unknown[] } {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [key, column, toDb] of patchable) {
    if (patch[key] === undefined) continue;
    sets.push(`${column} = ?`);
    params.push(toDb(patch[key]));
  }
  sets.push('updated_at = ?');
  params.push(us(now));
  return { set: sets.join(', '), params };
}
