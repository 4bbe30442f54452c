// A minimal HTTPS JSON client for Redfish: one request per call, no connection reuse (a fencing operation sends a
// handful of requests, and a pooled socket to a BMC that just rebooted is a source of confusing failures), a hard
// timeout per request, and errors mapped to FenceError codes.

import { request } from 'node:https';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { FenceError } from '../errors.ts';

export interface TlsOptions {
  /** false: accept any certificate (self-signed BMC). */
  verify: boolean;
  /** PEM text of CAs to trust instead of the system's. */
  ca?: string | undefined;
}

export interface JsonResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed body, or undefined when it was empty or not JSON. */
  json: unknown;
  text: string;
}

const MAX_BODY = 1024 * 1024;

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

function tlsHint(code: string | undefined): string | null {
  if (!code) return null;
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/.test(code)) {
    return 'the BMC certificate is not trusted: set ca_file to its CA (or certificate), or verify_tls: false';
  }
  return null;
}

export type Method = 'GET' | 'POST' | 'DELETE';

export function requestJson(
  url: URL,
  method: Method,
  opts: {
    /** Authentication headers (Authorization or X-Auth-Token); none for the session login itself. */
    headers: Record<string, string>;
    body?: unknown;
    tls: TlsOptions;
    timeoutMs: number;
    signal?: AbortSignal | undefined;
  },
): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new FenceError('aborted', 'aborted'));
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: OutgoingHttpHeaders = {
      accept: 'application/json',
      'OData-Version': '4.0',
      ...opts.headers,
    };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const where = `${method} ${url.pathname}`;
    let done = false;
    const settle = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const req = request(url, {
      method,
      headers,
      agent: false,
      rejectUnauthorized: opts.tls.verify,
      ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
    });
    const timer = setTimeout(() => {
      settle(() => reject(new FenceError('timeout', `${where}: no answer within ${opts.timeoutMs / 1000} s`)));
      req.destroy();
    }, opts.timeoutMs);
    const onAbort = () => {
      settle(() => reject(new FenceError('aborted', `${where}: aborted`)));
      req.destroy();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    req.on('error', (e: NodeJS.ErrnoException) => {
      const hint = tlsHint(e.code);
      if (hint) return settle(() => reject(new FenceError('config', `${where}: ${e.message}; ${hint}`)));
      const code = e.code && UNREACHABLE.has(e.code) ? 'unreachable' : 'protocol';
      settle(() => reject(new FenceError(code, `${where}: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' '))));
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (text.length < MAX_BODY) text += d;
      });
      res.on('error', (e) => settle(() => reject(new FenceError('unreachable', `${where}: connection lost: ${e.message}`))));
      res.on('end', () => {
        let json: unknown;
        try {
          json = text.trim() ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text }));
      });
    });
    req.end(payload);
  });
}
