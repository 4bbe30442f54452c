// The outbound HTTP client as a minimal dispatcher (one request) wrapped in small interceptors, each doing one
// thing: retry, timeout, logging here; Keystone auth, catalog endpoint and microversion in ../openstack (the undici
// idea). An interceptor takes the next handler and returns a handler, so each can be tested alone against a real
// HTTP server, and every driver that calls a service (Nova, Keystone, the controller, a Redfish BMC) composes the
// same pieces instead of growing its own client.

import { HttpClientError, isHttpClientError, systemErrorCode } from './errors.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Absolute URL (a driver's interceptor may resolve a relative one first, see ../openstack/interceptors/endpoint.ts). */
  url: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Per-attempt timeout; the timeout interceptor's default when absent. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the server said JSON, the text otherwise, null when empty. */
  body: unknown;
  /** The body as received (both base dispatchers set it): for error messages that quote what a server said. */
  text?: string;
  /** x-openstack-request-id (or the compute/ironic variants); null when the server sent none. */
  requestId: string | null;
}

export type Handler<R extends HttpRequest = HttpRequest> = (req: R) => Promise<HttpResponse>;
export type Interceptor<R extends HttpRequest = HttpRequest> = (next: Handler<R>) => Handler<R>;

/** compose(base, a, b, c): a request goes through a, then b, then c, then base. */
export function compose<R extends HttpRequest>(base: Handler<R>, ...interceptors: Interceptor<R>[]): Handler<R> {
  return interceptors.reduceRight<Handler<R>>((next, icpt) => icpt(next), base);
}

export const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

export function requestIdOf(headers: Headers): string | null {
  return headers.get('x-openstack-request-id') ?? headers.get('x-compute-request-id') ?? headers.get('x-openstack-ironic-request-id');
}

export function buildUrl(url: string, query?: HttpRequest['query']): string {
  if (!query) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

/** Headers and body of a request as sent on the wire: JSON in, JSON accepted. */
export function wireRequest(req: HttpRequest): { headers: Record<string, string>; body: string | undefined } {
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    headers['Content-Type'] ??= 'application/json';
  }
  return { headers, body };
}

/** The body of a response for callers: JSON when the server said JSON (and it parses), the text otherwise. */
export function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if ((contentType ?? '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      // Keep the text: the status says what happened; callers that need JSON report bad_response.
    }
  }
  return text;
}

// Socket errors that mean the request never left this host or never reached a listening server.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function connectionError(e: unknown, method: string, url: string): HttpClientError {
  const code = systemErrorCode(e);
  const why = code ?? (e instanceof Error ? e.message : String(e));
  return new HttpClientError('connection', `${method} ${url}: ${why}`, { sent: !(code && NOT_SENT.has(code)), cause: e });
}

/** What a base dispatcher throws when the caller's signal (or the timeout interceptor) stopped the request. */
export function abortError(req: HttpRequest, url: string, cause: unknown): HttpClientError<string> {
  const reason: unknown = req.signal?.reason;
  return isHttpClientError(reason) ? reason : new HttpClientError('aborted', `${req.method} ${url}: aborted`, { cause });
}

/** The URL a base dispatcher sends to, with the query; a relative one means no interceptor resolved it. */
export function wireUrl(req: HttpRequest): string {
  if (!/^https?:\/\//.test(req.url)) throw new HttpClientError('bad_response', `not an absolute URL: ${req.url} (no service endpoint resolved)`);
  return buildUrl(req.url, req.query);
}

/** The base dispatcher: one fetch, the body read and parsed. Throws HttpClientError for transport failures only. */
export const fetchHandler: Handler = async (req) => {
  const url = wireUrl(req);
  const { headers, body } = wireRequest(req);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method: req.method, headers, body, signal: req.signal, redirect: 'manual' });
    text = await res.text();
  } catch (e) {
    if (req.signal?.aborted) throw abortError(req, url, e);
    throw connectionError(e, req.method, url);
  }
  return { status: res.status, headers: res.headers, body: parseBody(text, res.headers.get('content-type')), text, requestId: requestIdOf(res.headers) };
};
