// Logs every HTTP exchange with the service's request id, so an operator can find the same call in Nova's or
// Keystone's logs. Reads at debug (the engine polls servers every second), writes at info, failures at warn.
// Tokens and request bodies are never logged (bodies may hold passwords).

import type { Logger } from '../../../core/log.ts';
import { errorMessage } from '../../../core/errors.ts';
import { isHttpClientError } from '../errors.ts';
import { buildUrl, type Handler, type HttpRequest } from '../http.ts';

/** `what` names the calls in the log (e.g. 'openstack call'): one message per service an operator can grep for. */
export function logInterceptor(logger: Logger, now: () => number = Date.now, what = 'http call') {
  return <R extends HttpRequest>(next: Handler<R>): Handler<R> =>
    async (req) => {
      const started = now();
      const url = buildUrl(req.url, req.query);
      try {
        const res = await next(req);
        const fields = { method: req.method, url, status: res.status, requestId: res.requestId, ms: now() - started };
        if (res.status >= 500) logger.warn(fields, what);
        else if (req.method === 'GET' || req.method === 'HEAD') logger.debug(fields, what);
        else logger.info(fields, what);
        return res;
      } catch (e) {
        const code = isHttpClientError(e) ? e.code : 'unknown';
        logger.warn({ method: req.method, url, code, err: errorMessage(e), ms: now() - started }, `${what} failed`);
        throw e;
      }
    };
}
