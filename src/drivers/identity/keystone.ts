// Keystone v3 token validation, as keystonemiddleware's auth_token does it: the service user authenticates with its
// password (POST /v3/auth/tokens), then validates each user token with GET /v3/auth/tokens (X-Auth-Token: service
// token, X-Subject-Token: user token). Validations are cached for a bounded time and count, keyed by a hash of the
// token so raw tokens are not kept in memory longer than a request.
// The service token comes from the same Keystone session as the Nova driver's (../openstack/keystone.ts), and the
// calls go through the shared client: auth -> timeout -> log -> fetch. No retry: a user waits on this answer, and
// a 503 tells the client to try again.

import { createHash } from 'node:crypto';
import { errorMessage } from '../../core/errors.ts';
import { realEnv, type Env } from '../../core/env.ts';
import type { Logger } from '../../core/log.ts';
import { TokenValidationError, type Identity, type TokenValidator } from '../../core/ports/identity.ts';
import { logInterceptor } from '../http/interceptors/log.ts';
import { timeoutInterceptor } from '../http/interceptors/timeout.ts';
import { OpenStackError } from '../openstack/errors.ts';
import { compose, fetchHandler, type Handler, type OsRequest, type OsResponse } from '../openstack/http.ts';
import { authInterceptor } from '../openstack/interceptors/auth.ts';
import { KeystoneSession } from '../openstack/keystone.ts';

export interface KeystoneOptions {
  auth_url: string;
  username: string;
  password: string;
  project_name: string;
  user_domain_name: string;
  project_domain_name: string;
  token_cache_seconds: number;
  token_cache_size: number;
  timeout_seconds: number;
  www_authenticate_uri: string | null;
}

interface TokenBody {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string; name?: string };
    roles?: { name?: string }[];
  };
}

type Cached = { identity: Identity; until: number } | { invalid: string; until: number };

/** Expired service tokens are renewed this long before Keystone says they expire. */
const SERVICE_TOKEN_MARGIN_MS = 60_000;

export class KeystoneTokenValidator implements TokenValidator {
  readonly wwwAuthenticateUri: string;
  private readonly base: string;
  private readonly cache = new Map<string, Cached>();
  private readonly session: KeystoneSession;
  private readonly http: Handler;
  private readonly nowMs: () => number;

  constructor(
    private readonly opts: KeystoneOptions,
    private readonly log: Logger,
    env: Env = realEnv,
  ) {
    this.nowMs = () => env.nowMs();
    this.base = opts.auth_url.replace(/\/+$/, '');
    this.wwwAuthenticateUri = opts.www_authenticate_uri ?? this.base.replace(/\/v3$/, '');
    const keystone = compose<OsRequest>(fetchHandler, timeoutInterceptor(opts.timeout_seconds * 1000), logInterceptor(log, this.nowMs, 'keystone call'));
    this.session = new KeystoneSession({
      authUrl: opts.auth_url,
      auth: {
        type: 'password',
        username: opts.username,
        password: opts.password,
        userDomainName: opts.user_domain_name,
        projectName: opts.project_name,
        projectDomainName: opts.project_domain_name,
      },
      http: keystone,
      env,
      refreshMarginMs: SERVICE_TOKEN_MARGIN_MS,
      logger: log,
    });
    this.http = compose<OsRequest>(keystone, authInterceptor(this.session));
  }

  async validate(token: string): Promise<Identity> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.nowMs();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) {
      if ('invalid' in hit) throw new TokenValidationError('invalid', hit.invalid);
      return hit.identity;
    }
    if (hit) this.cache.delete(key);
    try {
      const identity = await this.ask(token);
      const expires = identity.expiresAt?.getTime() ?? Infinity;
      this.remember(key, { identity, until: Math.min(now + this.opts.token_cache_seconds * 1000, expires) });
      return identity;
    } catch (e) {
      if (e instanceof TokenValidationError && e.kind === 'invalid') {
        this.remember(key, { invalid: e.message, until: now + this.opts.token_cache_seconds * 1000 });
      }
      throw e;
    }
  }

  private remember(key: string, entry: Cached): void {
    if (this.opts.token_cache_size === 0 || this.opts.token_cache_seconds === 0) return;
    // Map keeps insertion order: the first key is the oldest entry.
    while (this.cache.size >= this.opts.token_cache_size) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, entry);
  }

  private async ask(token: string): Promise<Identity> {
    let res: OsResponse;
    try {
      // The service token goes in X-Auth-Token (auth interceptor: a 401 means ours was revoked or expired early, and
      // it is replaced once), the token to validate in X-Subject-Token.
      res = await this.http({ method: 'GET', url: `${this.session.authUrl}/auth/tokens`, headers: { 'X-Subject-Token': token } });
    } catch (e) {
      throw this.unavailable(e);
    }
    if (res.status === 200) return this.identityOf(typeof res.body === 'object' && res.body !== null ? res.body : {});
    if (res.status === 404) throw new TokenValidationError('invalid', 'token not found or expired');
    throw new TokenValidationError('unavailable', `Keystone answered ${res.status} to token validation`);
  }

  /** Keystone could not be asked: not answering, or refusing our own service user (which an operator must fix). */
  private unavailable(e: unknown): TokenValidationError {
    if (e instanceof OpenStackError && e.code === 'auth') {
      this.log.error({ status: e.status, user: this.opts.username }, 'the service user could not authenticate to Keystone');
      return new TokenValidationError('unavailable', `service user ${this.opts.username} could not authenticate (Keystone answered ${e.status})`);
    }
    return new TokenValidationError('unavailable', `Keystone at ${this.base} did not answer: ${errorMessage(e)}`);
  }

  private identityOf(body: TokenBody): Identity {
    const t = body.token;
    if (!t?.user?.id) throw new TokenValidationError('unavailable', 'Keystone returned a token without a user');
    const expiresAt = t.expires_at ? new Date(t.expires_at) : null;
    if (expiresAt && expiresAt.getTime() <= this.nowMs()) throw new TokenValidationError('invalid', 'token expired');
    return {
      userId: t.user.id,
      userName: t.user.name ?? null,
      projectId: t.project?.id ?? null,
      projectName: t.project?.name ?? null,
      roles: (t.roles ?? []).map((r) => r.name ?? '').filter(Boolean),
      expiresAt,
    };
  }
}
