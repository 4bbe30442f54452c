// Domain records straight from better-sqlite3's array rows (`.raw(true)`), for the API's hot lists: building 100
// arrays is about half the cost of building 100 keyed objects. The keyed-row mappers of both dialects are
// ../sql/rows.ts; these two give exactly the same records (test/store/raw-lists.test.ts). Their field order is the
// one the domain records always had, in one object literal per row (see ../sql/rows.ts).

import type { Host, Segment } from '../../domain/model.ts';
import { dateFromMicros } from '../../domain/time.ts';

/** Positions of a table's columns in the raw (array) rows of a `SELECT *` statement. */
export type Cols = Readonly<Record<string, number>>;

const date = (v: unknown): Date => dateFromMicros(v as number);
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : dateFromMicros(v as number));
const bool = (v: unknown): boolean => v === 1;
const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));

export function segmentAt(a: readonly unknown[], c: Cols): Segment {
  return {
    id: a[c.id!] as number,
    uuid: str(a[c.uuid!]),
    createdAt: date(a[c.created_at!]),
    updatedAt: dateOrNull(a[c.updated_at!]),
    deletedAt: dateOrNull(a[c.deleted_at!]),
    deleted: bool(a[c.deleted!]),
    name: str(a[c.name!]),
    description: strOrNull(a[c.description!]),
    recoveryMethod: str(a[c.recovery_method!]) as Segment['recoveryMethod'],
    serviceType: str(a[c.service_type!]),
    enabled: bool(a[c.enabled!]),
  };
}

export function hostAt(a: readonly unknown[], c: Cols): Host {
  return {
    id: a[c.id!] as number,
    uuid: str(a[c.uuid!]),
    createdAt: date(a[c.created_at!]),
    updatedAt: dateOrNull(a[c.updated_at!]),
    deletedAt: dateOrNull(a[c.deleted_at!]),
    deleted: bool(a[c.deleted!]),
    name: str(a[c.name!]),
    type: str(a[c.type!]),
    controlAttributes: str(a[c.control_attributes!]),
    reserved: bool(a[c.reserved!]),
    onMaintenance: bool(a[c.on_maintenance!]),
    segmentUuid: str(a[c.failover_segment_id!]),
  };
}
