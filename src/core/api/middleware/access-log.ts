// One log line per request (what masakari-api's WSGI server logs): method, path, status, duration, request id and
// the client's address (plus, when proxy headers are believed, whom the proxy says it forwarded for). Requests the
// HTTP server answers before the app runs (src/core/api/server.ts) get the same line through logRequest.

import type { MiddlewareHandler } from 'hono';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../log.ts';
import type { ApiEnv } from '../context.ts';
import { forwardedFor, peerAddress } from '../proxy-headers.ts';
import { RequestAbortedError } from './body.ts';

export interface AccessFields {
  requestId: string;
  method?: string | undefined;
  path?: string | undefined;
  status: number;
  ms: number;
  client?: string | undefined;
  forwardedFor?: string | undefined;
  /** The client went away before its request was complete (the status is what it would have got). */
  aborted?: true;
  /** Why the HTTP server refused the request before the app saw it (Node's parser error code, ...). */
  rejected?: string;
}

export function logRequest(log: Logger, fields: AccessFields): void {
  if (log.isLevelEnabled('info')) log.info(fields, 'request');
}

/** The path of an absolute request URL, undecoded and without the query. */
export function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  if (start < 0) return '/';
  const end = url.indexOf('?', start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

export function accessLog(log: Logger, opts: { parseProxyHeaders: boolean }): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const start = performance.now();
    const client = peerAddress(c);
    await next();
    if (!log.isLevelEnabled('info')) return;
    const fields: AccessFields = {
      requestId: c.get('requestId'),
      method: c.req.method,
      // The path as the client sent it: c.req.path is the routing path, with a /v1/{project_id} prefix cut to /v1
      // (routing-path.ts), and the log must show which endpoint form (…/v1 or …/v1/{project_id}) the client used.
      path: rawPath(c.req.url),
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      client,
    };
    if (opts.parseProxyHeaders) fields.forwardedFor = forwardedFor(c);
    if (c.error instanceof RequestAbortedError) fields.aborted = true;
    log.info(fields, 'request');
  };
}
