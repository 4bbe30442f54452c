// Keystone v3 token validation, as keystonemiddleware's auth_token does it: the service user authenticates with its
// password (POST /v3/auth/tokens), then validates each user token with GET /v3/auth/tokens (X-Auth-Token: service
// token, X-Subject-Token: user token). Validations are cached for a bounded time and count, keyed by a hash of the
// token so raw tokens are not kept in memory longer than a request.

import { createHash } from 'node:crypto';
import type { Logger } from '../../core/log.ts';
import { TokenValidationError, type Identity, type TokenValidator } from '../../core/ports/identity.ts';

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
  private serviceToken: { value: string; until: number } | undefined;
  private serviceTokenPending: Promise<string> | undefined;

  constructor(
    private readonly opts: KeystoneOptions,
    private readonly log: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.base = opts.auth_url.replace(/\/+$/, '');
    this.wwwAuthenticateUri = opts.www_authenticate_uri ?? this.base.replace(/\/v3$/, '');
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
      const identity = await this.ask(token, true);
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

  private async request(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
    try {
      return await fetch(this.base + path, {
        method,
        headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.opts.timeout_seconds * 1000),
      });
    } catch (e) {
      throw new TokenValidationError('unavailable', `Keystone at ${this.base} did not answer: ${(e as Error).message}`);
    }
  }

  private async ask(token: string, retryOnServiceExpiry: boolean): Promise<Identity> {
    const service = await this.getServiceToken();
    const res = await this.request('GET', '/auth/tokens', { 'X-Auth-Token': service, 'X-Subject-Token': token });
    if (res.status === 200) return this.identityOf((await res.json().catch(() => ({}))) as TokenBody);
    await res.body?.cancel();
    if (res.status === 404) throw new TokenValidationError('invalid', 'token not found or expired');
    if (res.status === 401 && retryOnServiceExpiry) {
      // Our own token was revoked or expired early: authenticate again, once.
      this.serviceToken = undefined;
      return this.ask(token, false);
    }
    throw new TokenValidationError('unavailable', `Keystone answered ${res.status} to token validation`);
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

  private getServiceToken(): Promise<string> {
    if (this.serviceToken && this.serviceToken.until > this.nowMs()) return Promise.resolve(this.serviceToken.value);
    // Concurrent requests share one authentication.
    this.serviceTokenPending ??= this.authenticate().finally(() => (this.serviceTokenPending = undefined));
    return this.serviceTokenPending;
  }

  private async authenticate(): Promise<string> {
    const o = this.opts;
    const res = await this.request('POST', '/auth/tokens', {}, {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: o.username, domain: { name: o.user_domain_name }, password: o.password } },
        },
        scope: { project: { name: o.project_name, domain: { name: o.project_domain_name } } },
      },
    });
    const value = res.headers.get('X-Subject-Token');
    const body = (await res.json().catch(() => ({}))) as TokenBody;
    if (res.status !== 201 || !value) {
      this.log.error({ status: res.status, user: o.username }, 'the service user could not authenticate to Keystone');
      throw new TokenValidationError('unavailable', `service user ${o.username} could not authenticate (Keystone answered ${res.status})`);
    }
    const expires = body.token?.expires_at ? new Date(body.token.expires_at).getTime() : this.nowMs() + 3600_000;
    this.serviceToken = { value, until: expires - SERVICE_TOKEN_MARGIN_MS };
    return value;
  }
}
