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
import { versionString } from '../context.ts';
import { toJson } from '../format.ts';
import { VERSION_HEADER } from '../middleware/faults.ts';
import { preparedResponses } from '../middleware/prepared.ts';
import { REQUEST_ID_HEADER } from '../middleware/request-id.ts';
import type { ResponseCache } from '../response-cache.ts';
import { checkUrlProject } from '../middleware/auth.ts';
import { jsonBody } from '../middleware/body.ts';
import type { PolicyEnforcer } from '../middleware/policy.ts';
import type { QueryParams } from '../validation/params.ts';
import type { Publish, RequestContextData } from '../../observe/events.ts';

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
  responseCache: ResponseCache;
  /** The process's event bus (src/core/observe/bus.ts): resource changes, named as Masakari's notifications. */
  publish: Publish;
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

/**
 * A success response with every header the middleware would add (request id, microversion, Vary) already in a
 * plain object: @hono/node-server then writes it without building a Headers object (see preparedResponses).
 */
export function reply(c: Ctx, status: ContentfulStatusCode, body: unknown): Response {
  return replyBytes(c, status, toJson(body));
}

function replyBytes(c: Ctx, status: ContentfulStatusCode, body: string | Uint8Array): Response {
  const v = c.get('version');
  const headers: Record<string, string> = { 'Content-Type': 'application/json', [REQUEST_ID_HEADER]: c.get('requestId') };
  if (v) {
    headers[VERSION_HEADER] = `masakari ${versionString(v)}`;
    headers.Vary = VERSION_HEADER;
  }
  const res = new Response(body as ConstructorParameters<typeof Response>[0], { status, headers });
  preparedResponses.add(res);
  return res;
}

/**
 * GET responses served from the serialized-response cache while the store's change stamp (Store.changeStamp) is
 * unchanged. Policy and the URL's project are checked by the caller first, on every request; the key holds the
 * whole URL (path and query) and the microversion, which is all a GET response depends on.
 */
export async function cachedReply(c: Ctx, d: ResourceDeps, build: () => Promise<unknown>): Promise<Response> {
  const stamp = d.store.changeStamp?.() ?? null; // before reading: a body is never older than its stamp
  const v = c.get('version');
  const key = `${v ? versionString(v) : ''} ${c.req.url}`;
  if (stamp !== null) {
    const hit = d.responseCache.get(key, stamp);
    if (hit) return replyBytes(c, 200, hit);
  }
  const bytes = Buffer.from(toJson(await build()));
  if (stamp !== null) d.responseCache.set(key, stamp, bytes);
  return replyBytes(c, 200, bytes);
}

export function noContent(c: Ctx): Response {
  return c.body(null, 204, { 'Content-Type': 'application/json' });
}

export function queryOf(c: Ctx): QueryParams {
  return c.req.queries();
}

/** Path parameter (hono types them loosely across mounted sub-apps). */
export function param(c: Ctx, name: string): string {
  return c.req.param(name as never);
}

/** The caller, as a versioned notification's `_context_*` keys carry it (src/core/observe/versioned.ts). */
export function requestContext(c: Ctx): RequestContextData {
  const caller = c.get('caller');
  return { request_id: c.get('requestId'), user_id: caller.userId, project_id: caller.projectId, roles: caller.roles, is_admin: caller.isAdmin };
}
