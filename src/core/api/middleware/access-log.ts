// One log line per request (what masakari-api's WSGI server logs): method, path, status, duration, request id.

import type { MiddlewareHandler } from 'hono';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../log.ts';
import type { ApiEnv } from '../context.ts';

export function accessLog(log: Logger): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    if (!log.isLevelEnabled('info')) return;
    log.info(
      { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round((performance.now() - start) * 10) / 10 },
      'request',
    );
  };
}
