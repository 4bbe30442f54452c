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

export function accessLog(log: Logger, opts: { parseProxyHeaders: boolean }): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const start = performance.now();
    const client = peerAddress(c);
    await next();
    if (!log.isLevelEnabled('info')) return;
    const fields: AccessFields = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      client,
    };
    if (opts.parseProxyHeaders) fields.forwardedFor = forwardedFor(c);
    if (c.error instanceof RequestAbortedError) fields.aborted = true;
    log.info(fields, 'request');
  };
}
