// Adds the service token, and on 401 gets a fresh token and tries once more: a token can be revoked or its
// signing keys rotated before it expires. A second 401 is returned to the caller (the credentials lost rights).
// Without the replay (delivery: its outbox retries every failed send later anyway), a 401 still drops the token
// so that the next request gets a fresh one.

import type { Interceptor } from '../http.ts';

/** Where tokens come from: a KeystoneSession, or a fixed token for services without Keystone (../../delivery/auth.ts). */
export interface TokenSource {
  getToken(signal?: AbortSignal): Promise<{ id: string }>;
  /** The service refused `tokenId`: forget it, so the next getToken() asks for a new one. */
  invalidate(tokenId: string): void;
}

export function authInterceptor(session: TokenSource, opts: { replayOnUnauthorized?: boolean } = {}): Interceptor {
  const replay = opts.replayOnUnauthorized ?? true;
  return (next) => async (req) => {
    if (req.auth === false) return next(req);
    const send = async () => {
      const token = await session.getToken(req.signal);
      return { token, res: await next({ ...req, headers: { ...req.headers, 'X-Auth-Token': token.id } }) };
    };
    const first = await send();
    if (first.res.status !== 401) return first.res;
    session.invalidate(first.token.id);
    return replay ? (await send()).res : first.res;
  };
}
