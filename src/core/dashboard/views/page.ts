// A page: how it loads its data (through the API), its title, and its fragments. A fragment is a part of the page
// that live updates re-fetch on its own (?fragment=ID) when an event it depends on arrives; the full page is the
// fragments inside the page's own frame.

import type { DashboardApi } from '../api-client.ts';
import type { Html } from './parts.ts';

export interface ViewCtx {
  /** The API's policy for this viewer (action buttons show only when the rule allows them). */
  can(rule: string): boolean;
  csrf: string;
  /** After a refused action: which form it came from and what it held, to show it filled in again. */
  form?: { id: string; values: Record<string, string> } | undefined;
}

export interface Page<D> {
  load(api: DashboardApi, params: Record<string, string>): Promise<D>;
  title(data: D): string;
  nav: 'overview' | 'manage' | null;
  fragments: Record<string, (data: D, ctx: ViewCtx) => Html>;
  body(data: D, ctx: ViewCtx, fragment: (id: string) => Html): Html;
  /** The page takes live updates (an EventSource on the event stream). */
  live: boolean;
}

export const RULES = {
  segmentCreate: 'os_masakari_api:segments:create',
  segmentUpdate: 'os_masakari_api:segments:update',
  segmentDelete: 'os_masakari_api:segments:delete',
  hostCreate: 'os_masakari_api:os-hosts:create',
  hostUpdate: 'os_masakari_api:os-hosts:update',
  hostDelete: 'os_masakari_api:os-hosts:delete',
} as const;
