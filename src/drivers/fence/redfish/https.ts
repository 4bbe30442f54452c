// Redfish's HTTPS JSON requests through the shared outbound client (../../http): a node:https dispatcher with the
// BMC's TLS settings and no connection reuse (a fencing operation sends a handful of requests, and a pooled socket
// to a BMC that just rebooted is a source of confusing failures), the shared timeout interceptor for the hard limit
// per request (the fence gate's abort signal stops it too), and the client's errors mapped to FenceError codes.
// No retry interceptor: the fencer retries whole attempts (../retry.ts).

import { errorMessage } from '../../../core/errors.ts';
import { HttpClientError, systemErrorCode, systemErrorMessage } from '../../http/errors.ts';
import { compose } from '../../http/http.ts';
import { timeoutInterceptor } from '../../http/interceptors/timeout.ts';
import { nodeDispatcher, type TlsOptions } from '../../http/node-dispatcher.ts';
import { FenceError } from '../errors.ts';

export type { TlsOptions };

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** Parsed body, or undefined when it was empty or not JSON (whatever the Content-Type said). */
  json: unknown;
  text: string;
}

export type Method = 'GET' | 'POST' | 'DELETE';

export interface JsonRequestOptions {
  /** Authentication headers (Authorization or X-Auth-Token); none for the session login itself. */
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export type RequestJson = (url: URL, method: Method, opts: JsonRequestOptions) => Promise<JsonResponse>;

const MAX_BODY = 1024 * 1024;

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

function tlsHint(code: string | undefined): string | null {
  if (!code) return null;
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/.test(code)) {
    return 'the BMC certificate is not trusted: set ca_file to its CA (or certificate), or verify_tls: false';
  }
  return null;
}

function parseJson(text: string): unknown {
  try {
    return text.trim() ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The shared client's errors in fencing's terms: what the fencer retries, and what an operator must fix. */
function fenceErrorOf(e: unknown, where: string, timeoutMs: number): unknown {
  if (!(e instanceof HttpClientError)) return e;
  if (e.code === 'timeout') return new FenceError('timeout', `${where}: no answer within ${timeoutMs / 1000} s`);
  if (e.code === 'aborted') return new FenceError('aborted', `${where}: aborted`);
  const code = systemErrorCode(e);
  const message = systemErrorMessage(e) ?? errorMessage(e);
  const hint = tlsHint(code);
  if (hint) return new FenceError('config', `${where}: ${message}; ${hint}`);
  return new FenceError(code && UNREACHABLE.has(code) ? 'unreachable' : 'protocol', `${where}: ${code ?? ''} ${message}`.replace(/\s+/g, ' '));
}

/** A JSON client for one BMC; `tls` is fixed for its lifetime. */
export function redfishClient(tls: TlsOptions): RequestJson {
  // Every request carries its own timeoutMs (the attempt's), so the interceptor's default is never used.
  const http = compose(nodeDispatcher({ tls, headers: { 'OData-Version': '4.0' }, maxBodyBytes: MAX_BODY }), timeoutInterceptor(0));
  return async (url, method, opts) => {
    try {
      const res = await http({ method, url: url.toString(), headers: opts.headers, body: opts.body, timeoutMs: opts.timeoutMs, signal: opts.signal });
      const text = res.text ?? '';
      return { status: res.status, headers: res.headers, json: parseJson(text), text };
    } catch (e) {
      throw fenceErrorOf(e, `${method} ${url.pathname}`, opts.timeoutMs);
    }
  };
}
