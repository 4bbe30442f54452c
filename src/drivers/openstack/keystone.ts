// A Keystone v3 session for the service user: gets a project-scoped token with a password or an application
// credential, renews it `refreshMarginMs` before it expires, and drops it when a service answers 401 (revoked,
// or Keystone's keys rotated). Concurrent callers share one token request. The one Keystone client of the code
// base: the Nova driver, token validation (../identity/keystone.ts) and delivery to the controller
// (../delivery/auth.ts) each hold a session; what differs between them is the handler it is given.

import type { Env } from '../../core/env.ts';
import type { Logger } from '../../core/log.ts';
import { errorMessage } from '../../core/errors.ts';
import { findEndpoint, type Catalog, type EndpointFilter } from './catalog.ts';
import { OpenStackError } from './errors.ts';
import { expectStatus, type Handler } from './http.ts';

export type KeystoneAuth =
  | {
      type: 'password';
      username?: string | null;
      userId?: string | null;
      password: string;
      userDomainName?: string | null;
      userDomainId?: string | null;
      projectName?: string | null;
      projectId?: string | null;
      projectDomainName?: string | null;
      projectDomainId?: string | null;
    }
  | {
      type: 'v3applicationcredential';
      id?: string | null;
      name?: string | null;
      secret: string;
      username?: string | null;
      userId?: string | null;
      userDomainName?: string | null;
      userDomainId?: string | null;
    };

export interface Token {
  id: string;
  expiresAtMs: number;
  catalog: Catalog;
  userId: string | null;
  projectId: string | null;
}

export interface KeystoneSessionOptions {
  /** Keystone v3 URL; "/v3" is appended when missing. */
  authUrl: string;
  auth: KeystoneAuth;
  /** A handler without the auth interceptor (Keystone's own calls carry no token); retry/timeout/log are welcome. */
  http: Handler;
  env: Env;
  refreshMarginMs: number;
  logger?: Logger;
}

export function v3Url(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

const domain = (name?: string | null, id?: string | null) => (id ? { id } : { name: name ?? 'Default' });

function userRef(a: { username?: string | null; userId?: string | null; userDomainName?: string | null; userDomainId?: string | null }) {
  return a.userId ? { id: a.userId } : { name: a.username, domain: domain(a.userDomainName, a.userDomainId) };
}

/** The body of POST /v3/auth/tokens. Exported for tests: it is easy to get subtly wrong. */
export function authRequestBody(a: KeystoneAuth): unknown {
  if (a.type === 'password') {
    const scope = a.projectId ? { project: { id: a.projectId } } : { project: { name: a.projectName, domain: domain(a.projectDomainName, a.projectDomainId) } };
    return { auth: { identity: { methods: ['password'], password: { user: { ...userRef(a), password: a.password } } }, scope } };
  }
  // An application credential carries its own scope: a scope in the request is an error.
  const cred = a.id ? { id: a.id, secret: a.secret } : { name: a.name, secret: a.secret, user: userRef(a) };
  return { auth: { identity: { methods: ['application_credential'], application_credential: cred } } };
}

export class KeystoneSession {
  readonly authUrl: string;
  private token: Token | null = null;
  /** When the current token is renewed (see requestToken). */
  private renewAtMs = 0;
  /** The token request under way, shared by every caller that needs a token meanwhile. */
  private pending: { token: Promise<Token>; ctl: AbortController; waiters: number } | null = null;

  constructor(private readonly o: KeystoneSessionOptions) {
    this.authUrl = v3Url(o.authUrl);
  }

  /**
   * A token valid for at least refreshMarginMs more; fetches a new one when needed. `signal` aborts this caller's
   * wait; the token request itself is aborted once every caller waiting for it has given up (delivery's sender
   * stops with its outbox), never under a caller that still waits.
   */
  async getToken(signal?: AbortSignal): Promise<Token> {
    const t = this.token;
    const now = this.o.env.nowMs();
    if (t && this.renewAtMs > now) return t;
    if (!this.pending) {
      const ctl = new AbortController();
      const pending = { ctl, waiters: 0, token: this.issue(ctl.signal) };
      this.pending = pending;
      void pending.token
        .finally(() => {
          if (this.pending === pending) this.pending = null;
        })
        .catch(() => undefined);
    }
    const pending = this.pending;
    pending.waiters++;
    try {
      return await untilAborted(pending.token, signal);
    } catch (e) {
      // Keystone is unreachable while renewing early: the old token still works for a while, and a recovery in
      // progress should not stop because of Keystone. Once it has expired, the error is the caller's.
      if (t && this.token === t && t.expiresAtMs > now + 5_000 && !signal?.aborted) {
        this.o.logger?.warn(
          { err: errorMessage(e), expiresInMs: t.expiresAtMs - now },
          'keystone token renewal failed; using the current token until it expires',
        );
        return t;
      }
      throw e;
    } finally {
      if (--pending.waiters === 0 && signal?.aborted) pending.ctl.abort(signal.reason);
    }
  }

  /** Forget `tokenId` (a service refused it) so the next getToken() asks Keystone again. */
  invalidate(tokenId: string): void {
    if (this.token?.id === tokenId) this.token = null;
  }

  async endpoint(serviceType: string, filter: EndpointFilter, signal?: AbortSignal): Promise<string> {
    return findEndpoint((await this.getToken(signal)).catalog, serviceType, filter);
  }

  private async issue(signal?: AbortSignal): Promise<Token> {
    try {
      return await this.requestToken(signal);
    } catch (e) {
      // The Keystone handler has retried already: an outer retry layer must not multiply the attempts.
      if (e instanceof OpenStackError) e.exhausted = true;
      throw e;
    }
  }

  private async requestToken(signal?: AbortSignal): Promise<Token> {
    const req = { method: 'POST' as const, url: `${this.authUrl}/auth/tokens`, auth: false, body: authRequestBody(this.o.auth), ...(signal ? { signal } : {}) };
    const res = await this.o.http(req);
    if (res.status === 401 || res.status === 403) {
      throw new OpenStackError('auth', `Keystone at ${req.url} answered ${res.status}: it refused the ${this.o.auth.type} credentials`, {
        status: res.status,
        requestId: res.requestId,
      });
    }
    expectStatus(res, req, 201, 200);
    const id = res.headers.get('x-subject-token');
    const body = res.body as { token?: { expires_at?: string; catalog?: Catalog; user?: { id?: string }; project?: { id?: string } } } | null;
    const expires = Date.parse(body?.token?.expires_at ?? '');
    const issued = Date.parse((body?.token as { issued_at?: string } | undefined)?.issued_at ?? '');
    if (!id || !body?.token || Number.isNaN(expires)) {
      throw new OpenStackError('bad_response', `Keystone answered ${req.url} without X-Subject-Token or token.expires_at`, { requestId: res.requestId });
    }
    const token: Token = {
      id,
      expiresAtMs: expires,
      catalog: Array.isArray(body.token.catalog) ? body.token.catalog : [],
      userId: body.token.user?.id ?? null,
      projectId: body.token.project?.id ?? null,
    };
    this.o.logger?.info({ user: token.userId, project: token.projectId, expiresAt: body.token.expires_at, requestId: res.requestId }, 'keystone token issued');
    // Renew refreshMarginMs before expiry, but never earlier than half-way through the token's life: with a margin
    // longer than the lifetime (Keystone's [token] expiration set short) every call would otherwise ask Keystone for
    // a new token. The lifetime is Keystone's own (issued_at -> expires_at), so clock skew does not shorten it.
    const lifetimeMs = expires - (Number.isNaN(issued) ? this.o.env.nowMs() : issued);
    this.renewAtMs = expires - Math.min(this.o.refreshMarginMs, Math.max(0, lifetimeMs) / 2);
    this.token = token;
    return token;
  }
}

/** `p`, or a rejection as soon as `signal` fires (the shared token request itself may go on for other callers). */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new OpenStackError('aborted', 'aborted while waiting for a Keystone token', { cause: signal.reason }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
