// API request metrics: one histogram observation per request, labelled with the method, the route PATTERN
// (/v1/segments/:segment_id, never the raw path: an id per path would grow the series without bound) and the status.
// Its _count is the request count. Kept to one observe: the cached GET path is measured in tens of microseconds.

import type { MiddlewareHandler } from 'hono';
import { performance } from 'node:perf_hooks';
import type { ApiMetrics } from '../../observe/metric-set.ts';
import type { ApiEnv } from '../context.ts';

/** Status codes as label text, made once each. */
const codeText: string[] = [];
const codeLabel = (status: number) => (codeText[status] ??= String(status));

export function requestMetrics(m: ApiMetrics): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      // After next(), routePath is the pattern of the last handler that ran (a middleware's '*' or '/v1/*' for a 404).
      m.requestDuration.observe((performance.now() - start) / 1000, { method: c.req.method, route: c.req.routePath, code: codeLabel(c.res.status) });
    }
  };
}
