// The dashboard reads and changes everything through the API app itself, in process (app.fetch, no socket): the
// same validation, the same policy checks, the same error messages as any API client gets, and no second path into
// the store to keep in step. The caller's Keystone token (from the session cookie) goes in X-Auth-Token, exactly
// as a CLI would send it; under noauth2 there is none.

/** One request into the API app (in production: the app's own fetch; tests may wrap it). */
export type ApiFetch = (req: Request) => Promise<Response>;

/** The newest microversion: progress details (1.1) and VM moves (1.3). */
export const API_VERSION = 'instance-ha 1.3';
/** Only the path and query matter to the API app; the host name is never resolved. */
const ORIGIN = 'http://masakari.internal';

export type ApiResult<T> = { ok: true; status: number; body: T } | { ok: false; status: number; message: string };

/** An extension resource (GET /v1/x-masakari/...) may not be built into this controller yet. */
export type Optional<T> = { available: true; result: ApiResult<T> } | { available: false };

export class DashboardApi {
  constructor(
    private readonly fetchApi: ApiFetch,
    private readonly token: string | null,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Accept: 'application/json', 'OpenStack-API-Version': API_VERSION, ...(this.token ? { 'X-Auth-Token': this.token } : {}), ...extra };
  }

  /** The raw response (the event stream passes through as it is). */
  raw(method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
    const init: RequestInit = { method, headers: this.headers(opts.headers) };
    if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    if (opts.signal) init.signal = opts.signal;
    return this.fetchApi(new Request(ORIGIN + path, init));
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const res = await this.raw(method, path, body === undefined ? {} : { body });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, body: parsed as T };
    return { ok: false, status: res.status, message: faultMessage(parsed) ?? `The API answered ${res.status}.` };
  }

  get<T>(path: string): Promise<ApiResult<T>> {
    return this.call<T>('GET', path);
  }

  /**
   * GET of an extension resource. "Not available" is the API's answer for a path it has no route for: 300
   * (versions document of the catch-all) or 404 with the generic "resource could not be found".
   */
  async optional<T>(path: string): Promise<Optional<T>> {
    const r = await this.get<T>(path);
    if (!r.ok && (r.status === 300 || (r.status === 404 && r.message === 'The resource could not be found.'))) return { available: false };
    return { available: true, result: r };
  }
}

/** The message of Masakari's error envelope ({"badRequest": {"code", "message"}}) or keystonemiddleware's 401. */
export function faultMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  for (const v of Object.values(body as Record<string, unknown>)) {
    if (typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string') return (v as { message: string }).message;
  }
  return null;
}
