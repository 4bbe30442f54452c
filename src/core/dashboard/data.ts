// What the pages read from the API (in process, with the viewer's token). A refusal (403), a missing record (404)
// or an absent extension becomes a value the page shows, never an exception: one part of a page that cannot be
// shown does not hide the rest.

import { AppError } from '../errors.ts';
import type { ApiResult, DashboardApi, Optional } from './api-client.ts';
import type { HostJson, NotificationJson, ProtectionReport, SegmentJson, VMoveJson, WhatIf } from './wire.ts';

/** A page's main record could not be read: the page answers with the API's status and message. */
export class PageFailure extends AppError {
  readonly code = 'DASHBOARD_PAGE_REFUSED';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function need<T>(r: ApiResult<T>): T {
  if (!r.ok) throw new PageFailure(r.status, r.message);
  return r.body;
}

export interface Inventory {
  segments: SegmentJson[];
  hostsBySegment: Map<string, ApiResult<{ hosts: HostJson[] }>>;
  hostByUuid: Map<string, HostJson>;
}

export async function inventory(api: DashboardApi): Promise<Inventory> {
  const segments = need(await api.get<{ segments: SegmentJson[] }>('/v1/segments?sort_key=name&sort_dir=asc')).segments;
  const lists = await Promise.all(segments.map((s) => api.get<{ hosts: HostJson[] }>(`/v1/segments/${s.uuid}/hosts?sort_key=name&sort_dir=asc`)));
  const hostsBySegment = new Map(segments.map((s, i) => [s.uuid, lists[i]!]));
  const hostByUuid = new Map<string, HostJson>();
  for (const l of lists) if (l.ok) for (const h of l.body.hosts) hostByUuid.set(h.uuid, h);
  return { segments, hostsBySegment, hostByUuid };
}

export const protection = (api: DashboardApi): Promise<Optional<ProtectionReport>> => api.optional<ProtectionReport>('/v1/x-masakari/protection');

export const whatIf = (api: DashboardApi, host: string): Promise<Optional<WhatIf>> =>
  api.optional<WhatIf>(`/v1/x-masakari/whatif?lose=${encodeURIComponent(host)}`);

export const IN_PROGRESS = new Set(['new', 'running', 'error']);
export const FAILED = new Set(['failed', 'error']);

export async function recentNotifications(api: DashboardApi, query = ''): Promise<ApiResult<{ notifications: NotificationJson[] }>> {
  return api.get<{ notifications: NotificationJson[] }>(`/v1/notifications?sort_key=created_at&sort_dir=desc&limit=50${query}`);
}

export async function notificationDetail(api: DashboardApi, uuid: string): Promise<ApiResult<{ notification: NotificationJson }>> {
  return api.get<{ notification: NotificationJson }>(`/v1/notifications/${encodeURIComponent(uuid)}`);
}

export async function vmoves(api: DashboardApi, uuid: string): Promise<ApiResult<{ vmoves: VMoveJson[] }>> {
  return api.get<{ vmoves: VMoveJson[] }>(`/v1/notifications/${encodeURIComponent(uuid)}/vmoves?sort_key=created_at&sort_dir=asc`);
}

/** Overall progress of a recovery: mean task progress, and which task runs now. */
export function recoveryProgress(n: NotificationJson): { fraction: number; current: string | null; done: number; total: number } {
  const tasks = n.recovery_workflow_details ?? [];
  if (n.status === 'finished') return { fraction: 1, current: null, done: tasks.length, total: tasks.length };
  if (tasks.length === 0) return { fraction: 0, current: null, done: 0, total: 0 };
  const sum = tasks.reduce((a, t) => a + (Number(t.progress) || 0), 0);
  const running = tasks.find((t) => t.state === 'RUNNING') ?? null;
  return { fraction: sum / tasks.length, current: running?.name ?? null, done: tasks.filter((t) => t.state === 'SUCCESS').length, total: tasks.length };
}
