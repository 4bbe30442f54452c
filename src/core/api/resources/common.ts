// What every resource module needs: its dependencies, the request prologue (body, URL project, policy) and the
// success response format (Content-Type "application/json" without charset, as Masakari sends it).

import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Notification } from '../../domain/model.ts';
import type { Env } from '../../env.ts';
import type { Logger } from '../../log.ts';
import type { HostCatalog } from '../../ports/host-catalog.ts';
import type { Store } from '../../store/types.ts';
import type { ApiEnv } from '../context.ts';
import { toJson } from '../format.ts';
import { checkUrlProject } from '../middleware/auth.ts';
import { jsonBody } from '../middleware/body.ts';
import type { PolicyEnforcer } from '../middleware/policy.ts';
import type { QueryParams } from '../validation/params.ts';

export interface ResourceDeps {
  store: Store;
  hostCatalog: HostCatalog;
  env: Env;
  log: Logger;
  policy: PolicyEnforcer;
  /** osapi_max_limit */
  maxLimit: number;
  /** duplicate_notification_detection_interval in ms */
  duplicateWindowMs: number;
  onNotificationAccepted?: (n: Notification) => void;
}

export type Ctx = Context<ApiEnv>;

/** Masakari's order for requests with a body: decode it (415/400), check the URL's project, then the handler. */
export function bodyOf(c: Ctx): unknown {
  const body = jsonBody(c);
  checkUrlProject(c);
  return body;
}

/** Prologue of requests without a body: URL project, then the policy rule. */
export function authorize(c: Ctx, d: ResourceDeps, action: string): void {
  checkUrlProject(c);
  d.policy.enforce(action, c.get('caller'));
}

export function reply(c: Ctx, status: ContentfulStatusCode, body: unknown): Response {
  return c.body(toJson(body), status, { 'Content-Type': 'application/json' });
}

export function noContent(c: Ctx): Response {
  return c.body(null, 204, { 'Content-Type': 'application/json' });
}

export function queryOf(c: Ctx): QueryParams {
  return c.req.queries() as QueryParams;
}

/** Path parameter (hono types them loosely across mounted sub-apps). */
export function param(c: Ctx, name: string): string {
  return c.req.param(name as never) as string;
}
