// Our extension resources, under /v1/x-masakari/ (and /v1/{project_id}/x-masakari/): no Masakari client uses that
// path, and no Masakari resource can collide with it. Behind the same auth middleware as Masakari's resources; each
// has a policy rule masakari_ext:<resource>:<action> defaulting to rule:admin_api. Listed in docs/api.md.

import type { Hono } from 'hono';
import type { WhatIfDeps } from '../../../protection/whatif/index.ts';
import type { ApiEnv } from '../../context.ts';
import type { ResourceDeps } from '../common.ts';
import { whatifRoutes } from './whatif.ts';
import { eventRoutes, type EventStreamDeps } from './events.ts';

export interface ExtensionDeps {
  /** The what-if planner's access to the backend; undefined without a compute driver. */
  whatif?: WhatIfDeps;
  /** The event stream's history and timing (GET /v1/x-masakari/events); without it the route is not served. */
  events?: Omit<EventStreamDeps, 'log'>;
}

export function extensionRoutes(app: Hono<ApiEnv>, d: ResourceDeps, ext: ExtensionDeps): void {
  whatifRoutes(app, d, ext.whatif);
  if (ext.events) eventRoutes(app, d, ext.events);
}
