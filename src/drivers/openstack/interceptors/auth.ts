// Adds the service token, and on 401 gets a fresh token and tries once more: a token can be revoked or its
// signing keys rotated before it expires. A second 401 is returned to the caller (the credentials lost rights).

import type { KeystoneSession } from '../keystone.ts';
import type { Interceptor } from '../http.ts';

export function authInterceptor(session: Pick<KeystoneSession, 'getToken' | 'invalidate'>): Interceptor {
  return (next) => async (req) => {
    if (req.auth === false) return next(req);
    const send = async () => {
      const token = await session.getToken();
      return { token, res: await next({ ...req, headers: { ...req.headers, 'X-Auth-Token': token.id } }) };
    };
    const first = await send();
    if (first.res.status !== 401) return first.res;
    session.invalidate(first.token.id);
    return (await send()).res;
  };
}
