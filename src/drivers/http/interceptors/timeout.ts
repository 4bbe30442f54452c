// Per-attempt timeout: aborts the fetch (and the body read) after `timeoutMs`, and reports it as
// HttpClientError('timeout') so the retry interceptor and the driver can tell it from a refused connection.

import { HttpClientError } from '../errors.ts';
import type { Handler, HttpRequest } from '../http.ts';

export function timeoutInterceptor(defaultMs: number) {
  return <R extends HttpRequest>(next: Handler<R>): Handler<R> =>
    async (req) => {
      const ms = req.timeoutMs ?? defaultMs;
      if (!(ms > 0)) return next(req);
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(new HttpClientError('timeout', `${req.method} ${req.url}: no answer within ${ms} ms`)), ms);
      const onOuterAbort = () => ctl.abort(req.signal?.reason);
      if (req.signal?.aborted) onOuterAbort();
      req.signal?.addEventListener('abort', onOuterAbort, { once: true });
      try {
        return await next({ ...req, signal: ctl.signal });
      } finally {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onOuterAbort);
      }
    };
}
