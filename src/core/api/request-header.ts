// Request headers without a web Headers object. Under @hono/node-server, c.req.header() makes the adapter copy
// every incoming header into an undici Headers instance on first use (about 8% of a cached GET). Node has already
// parsed them into incoming.headers (lower-case names; repeated values joined with ", ", as Headers.get does).
// app.request() in tests has no Node request: then hono's own accessor is used.

import type { Context } from 'hono';
import type { IncomingHttpHeaders } from 'node:http';

export function requestHeader(c: Context, lowerCaseName: string): string | undefined {
  const incoming = (c.env as { incoming?: { headers?: IncomingHttpHeaders } } | undefined)?.incoming;
  if (incoming?.headers) {
    const v = incoming.headers[lowerCaseName];
    return Array.isArray(v) ? v.join(', ') : v;
  }
  return c.req.header(lowerCaseName);
}
