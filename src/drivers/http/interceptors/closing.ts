// Ends every request of a client at once when its owner stops: `closing` (an AbortSignal the client's close()
// fires) is added to each request's own signal, so a call waiting on a frozen server (Keystone, Nova) rejects with
// HttpClientError('aborted') instead of holding a stopping role until shutdown_timeout. Outermost in a stack, so the
// retry interceptor sees the abort and does not try again; a request made after close() fails at once.

import type { Handler, HttpRequest } from '../http.ts';

export function closingInterceptor(closing: AbortSignal) {
  return <R extends HttpRequest>(next: Handler<R>): Handler<R> =>
    async (req) => {
      if (closing.aborted) throw closing.reason;
      return next({ ...req, signal: req.signal ? AbortSignal.any([req.signal, closing]) : closing });
    };
}
