// Every response carries X-Openstack-Request-Id: req-<uuid> (oslo's request_id middleware); logs use the same id.

import type { MiddlewareHandler } from 'hono';
import type { Env } from '../../env.ts';
import type { ApiEnv } from '../context.ts';
import { preparedResponses } from './prepared.ts';

export const REQUEST_ID_HEADER = 'X-Openstack-Request-Id';

export function requestId(env: Env): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const id = `req-${env.uuid()}`;
    c.set('requestId', id);
    await next();
    if (!preparedResponses.has(c.res)) c.res.headers.set(REQUEST_ID_HEADER, id);
  };
}
