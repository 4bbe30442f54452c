// Logs every HTTP exchange with the service's request id, so an operator can find the same call in Nova's or
// Keystone's logs. Reads at debug (the engine polls servers every second), writes at info, failures at warn.
// Tokens and request bodies are never logged (bodies may hold passwords).

import type { Logger } from '../../../core/log.ts';
import { OpenStackError } from '../errors.ts';
import { buildUrl, type Interceptor } from '../http.ts';

export function logInterceptor(logger: Logger, now: () => number = Date.now): Interceptor {
  return (next) => async (req) => {
    const started = now();
    const url = buildUrl(req.url, req.query);
    try {
      const res = await next(req);
      const fields = { method: req.method, url, status: res.status, requestId: res.requestId, ms: now() - started };
      if (res.status >= 500) logger.warn(fields, 'openstack call');
      else if (req.method === 'GET' || req.method === 'HEAD') logger.debug(fields, 'openstack call');
      else logger.info(fields, 'openstack call');
      return res;
    } catch (e) {
      const code = e instanceof OpenStackError ? e.code : 'unknown';
      logger.warn({ method: req.method, url, code, err: (e as Error).message, ms: now() - started }, 'openstack call failed');
      throw e;
    }
  };
}
