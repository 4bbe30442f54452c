// Tokens for the X-Auth-Token header: a fixed one (noauth2 controllers ignore it; masakari-monitors send "notused"
// style dummies too) or a Keystone v3 password-scoped token, fetched on first use and renewed before it expires.

export interface TokenProvider {
  token(signal?: AbortSignal): Promise<string>;
  /** The controller said 401: forget the cached token so the next call gets a fresh one. */
  invalidate(): void;
  /** The controller endpoint from the Keystone catalog, when the configuration does not name one. */
  endpointFromCatalog?(signal?: AbortSignal): Promise<string | null>;
}

export class FixedToken implements TokenProvider {
  constructor(private readonly value: string) {}
  async token(): Promise<string> {
    return this.value;
  }
  invalidate(): void {}
}

export interface KeystonePasswordOptions {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  regionName: string | null;
  interface: 'public' | 'internal' | 'admin';
  timeoutMs: number;
  nowMs?: () => number;
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region_id?: string; region?: string; url: string }[];
}

/** Renew this long before Keystone's expires_at, so a token never expires in flight. */
const RENEW_MARGIN_MS = 5 * 60_000;

export class KeystonePasswordAuth implements TokenProvider {
  private cached: { token: string; expiresMs: number; catalog: CatalogEntry[] } | null = null;
  private readonly nowMs: () => number;

  constructor(private readonly opts: KeystonePasswordOptions) {
    this.nowMs = opts.nowMs ?? Date.now;
  }

  invalidate(): void {
    this.cached = null;
  }

  async token(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.cached.expiresMs - RENEW_MARGIN_MS > this.nowMs()) return this.cached.token;
    this.cached = await this.authenticate(signal);
    return this.cached.token;
  }

  async endpointFromCatalog(signal?: AbortSignal): Promise<string | null> {
    await this.token(signal);
    const entry = this.cached?.catalog.find((c) => c.type === 'instance-ha');
    const ep = entry?.endpoints.find(
      (e) =>
        e.interface === this.opts.interface &&
        (this.opts.regionName === null || e.region_id === this.opts.regionName || e.region === this.opts.regionName),
    );
    return ep?.url ?? null;
  }

  private async authenticate(signal?: AbortSignal) {
    const url = `${this.opts.authUrl.replace(/\/+$/, '')}/auth/tokens`;
    const body = {
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: this.opts.username, password: this.opts.password, domain: { name: this.opts.userDomainName } },
          },
        },
        scope: { project: { name: this.opts.projectName, domain: { name: this.opts.projectDomainName } } },
      },
    };
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) {
      throw new Error(`Keystone ${url} answered ${res.status} without a token: ${text.slice(0, 200)}`);
    }
    let expiresMs = this.nowMs() + 3600_000;
    let catalog: CatalogEntry[] = [];
    try {
      const parsed = JSON.parse(text) as { token?: { expires_at?: string; catalog?: CatalogEntry[] } };
      const t = Date.parse(parsed.token?.expires_at ?? '');
      if (!Number.isNaN(t)) expiresMs = t;
      catalog = parsed.token?.catalog ?? [];
    } catch {
      // a token without a readable body still works; keep the defaults
    }
    return { token, expiresMs, catalog };
  }
}
