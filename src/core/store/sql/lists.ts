// What each API list may be sorted and filtered by, for both dialects: API sort key -> column, and the filters as
// WHERE clauses. Only "status is one of a list" is written differently (notificationList's parameter).

import type { HostFilters, NotificationFilters, SegmentFilters, VMoveFilters } from '../types.ts';
import type { ListSpec } from './listing.ts';
import { us } from './rows.ts';

export const segmentList: ListSpec<SegmentFilters> = {
  table: 'failover_segments',
  sortKeys: {
    created_at: { column: 'created_at', nullable: false },
    description: { column: 'description', nullable: true },
    name: { column: 'name', nullable: false },
    updated_at: { column: 'updated_at', nullable: true },
    uuid: { column: 'uuid', nullable: false },
    recovery_method: { column: 'recovery_method', nullable: false },
    service_type: { column: 'service_type', nullable: false },
  },
  filters: (f) => {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (f.recoveryMethod !== undefined) (clauses.push('recovery_method = ?'), params.push(f.recoveryMethod));
    if (f.serviceType !== undefined) (clauses.push('service_type = ?'), params.push(f.serviceType));
    if (f.enabled !== undefined) (clauses.push('enabled = ?'), params.push(f.enabled ? 1 : 0));
    return { clauses, params };
  },
};

export const hostList: ListSpec<HostFilters> = {
  table: 'hosts',
  sortKeys: {
    created_at: { column: 'created_at', nullable: false },
    type: { column: 'type', nullable: false },
    name: { column: 'name', nullable: false },
    updated_at: { column: 'updated_at', nullable: true },
    uuid: { column: 'uuid', nullable: false },
    reserved: { column: 'reserved', nullable: false },
    on_maintenance: { column: 'on_maintenance', nullable: false },
  },
  filters: (f) => {
    const clauses = ['failover_segment_id = ?'];
    const params: unknown[] = [f.segmentUuid];
    if (f.type !== undefined) (clauses.push('type = ?'), params.push(f.type));
    if (f.onMaintenance !== undefined) (clauses.push('on_maintenance = ?'), params.push(f.onMaintenance ? 1 : 0));
    if (f.reserved !== undefined) (clauses.push('reserved = ?'), params.push(f.reserved ? 1 : 0));
    return { clauses, params };
  },
};

/** `status` is one of `statuses`, as the dialect writes it with one statement text for any number of them. */
export type StatusIn = (statuses: string[]) => { clause: string; params: unknown[] };

export function notificationList(statusIn: StatusIn): ListSpec<NotificationFilters> {
  return {
    table: 'notifications',
    sortKeys: {
      created_at: { column: 'created_at', nullable: false },
      type: { column: 'type', nullable: false },
      generated_time: { column: 'generated_time', nullable: false },
      updated_at: { column: 'updated_at', nullable: true },
      uuid: { column: 'uuid', nullable: false },
      payload: { column: 'payload', nullable: false },
      status: { column: 'status', nullable: false },
      source_host_uuid: { column: 'source_host_uuid', nullable: false },
    },
    filters: (f) => {
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (f.status !== undefined) (clauses.push('status = ?'), params.push(f.status));
      if (f.statuses !== undefined) {
        const s = statusIn(f.statuses);
        clauses.push(s.clause);
        params.push(...s.params);
      }
      if (f.type !== undefined) (clauses.push('type = ?'), params.push(f.type));
      if (f.sourceHostUuid !== undefined) (clauses.push('source_host_uuid = ?'), params.push(f.sourceHostUuid));
      if (f.generatedSince !== undefined) (clauses.push('generated_time >= ?'), params.push(us(f.generatedSince)));
      return { clauses, params };
    },
  };
}

export const vmoveList: ListSpec<VMoveFilters> = {
  table: 'vmoves',
  sortKeys: {
    created_at: { column: 'created_at', nullable: false },
    updated_at: { column: 'updated_at', nullable: true },
    uuid: { column: 'uuid', nullable: false },
    start_time: { column: 'start_time', nullable: true },
    type: { column: 'type', nullable: false },
    status: { column: 'status', nullable: false },
  },
  filters: (f) => {
    const clauses = ['notification_uuid = ?'];
    const params: unknown[] = [f.notificationUuid];
    if (f.status !== undefined) (clauses.push('status = ?'), params.push(f.status));
    if (f.type !== undefined) (clauses.push('type = ?'), params.push(f.type));
    return { clauses, params };
  },
};
