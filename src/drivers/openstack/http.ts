// The OpenStack HTTP client as a minimal dispatcher (one fetch) wrapped in small interceptors, each doing one
// thing: retry, auth, endpoint lookup, microversion, timeout, logging (the undici idea). An interceptor takes the
// next handler and returns a handler, so each can be tested alone against a real HTTP server.

import { faultMessage, OpenStackError } from './errors.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OsRequest {
  method: HttpMethod;
  /** Absolute URL; or, with `service`, a path relative to that service's endpoint (e.g. "/os-services"). */
  url: string;
  /** Catalog service type (e.g. "compute"): the endpoint interceptor turns `url` into an absolute URL. */
  service?: string;
  /** Set by the endpoint interceptor: the service's endpoint the URL was resolved against. */
  endpoint?: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Per-attempt timeout; the timeout interceptor's default when absent. */
  timeoutMs?: number;
  /** False for requests that must not carry a token (Keystone's own /auth/tokens). */
  auth?: boolean;
  signal?: AbortSignal;
}

export interface OsResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the server said JSON, the text otherwise, null when empty. */
  body: unknown;
  /** x-openstack-request-id (or the compute/ironic variants); null when the server sent none. */
  requestId: string | null;
}

export type Handler = (req: OsRequest) => Promise<OsResponse>;
export type Interceptor = (next: Handler) => Handler;

/** compose(base, a, b, c): a request goes through a, then b, then c, then base. */
export function compose(base: Handler, ...interceptors: Interceptor[]): Handler {
  return interceptors.reduceRight<Handler>((next, icpt) => icpt(next), base);
}

export const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

export function requestIdOf(headers: Headers): string | null {
  return headers.get('x-openstack-request-id') ?? headers.get('x-compute-request-id') ?? headers.get('x-openstack-ironic-request-id');
}

export function buildUrl(url: string, query?: OsRequest['query']): string {
  if (!query) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

// Node's fetch reports socket problems as TypeError('fetch failed') with the system error as `cause`.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function connectionError(e: unknown, method: string, url: string): OpenStackError {
  let cause: unknown = e;
  let code: string | undefined;
  for (let i = 0; i < 4 && cause && typeof cause === 'object'; i++) {
    code = (cause as { code?: string }).code ?? code;
    if (code) break;
    cause = (cause as { cause?: unknown }).cause;
  }
  const why = code ?? (e instanceof Error ? e.message : String(e));
  return new OpenStackError('connection', `${method} ${url}: ${why}`, { sent: !(code && NOT_SENT.has(code)), cause: e });
}

/** The base dispatcher: one fetch, the body read and parsed. Throws OpenStackError for transport failures only. */
export const fetchHandler: Handler = async (req) => {
  if (!/^https?:\/\//.test(req.url)) throw new OpenStackError('bad_response', `not an absolute URL: ${req.url} (no service endpoint resolved)`);
  const url = buildUrl(req.url, req.query);
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    headers['Content-Type'] ??= 'application/json';
  }
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method: req.method, headers, body, signal: req.signal, redirect: 'manual' });
    text = await res.text();
  } catch (e) {
    if (req.signal?.aborted) throw req.signal.reason instanceof OpenStackError ? req.signal.reason : new OpenStackError('aborted', `${req.method} ${url}: aborted`, { cause: e });
    throw connectionError(e, req.method, url);
  }
  let parsed: unknown = text === '' ? null : text;
  if (text !== '' && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // Keep the text: the status says what happened; callers that need JSON report bad_response.
    }
  }
  return { status: res.status, headers: res.headers, body: parsed, requestId: requestIdOf(res.headers) };
};

/** Throws OpenStackError('http') unless the status is one of `ok`; the message carries the service's own words. */
export function expectStatus(res: OsResponse, req: Pick<OsRequest, 'method' | 'url'>, ...ok: number[]): OsResponse {
  if (ok.includes(res.status)) return res;
  const m = faultMessage(res.body);
  throw new OpenStackError('http', `${req.method} ${req.url}: HTTP ${res.status}${m ? `: ${m}` : ''}`, {
    status: res.status,
    requestId: res.requestId,
  });
}
