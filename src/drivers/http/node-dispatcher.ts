// A base dispatcher on node:http(s) for servers that need TLS settings of their own (a BMC with a self-signed
// certificate, or a CA of its own) and no connection reuse: one socket per request (agent: false), because a
// pooled socket to a BMC that just rebooted is a source of confusing failures. Same contract as fetchHandler:
// the answer whatever its status, HttpClientError for transport failures; the interceptors go on top.

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HttpClientError } from './errors.ts';
import { abortError, connectionError, parseBody, requestIdOf, wireRequest, wireUrl, type Handler } from './http.ts';

export interface TlsOptions {
  /** false: accept any certificate (self-signed BMC). */
  verify: boolean;
  /** PEM text of CAs to trust instead of the system's. */
  ca?: string | undefined;
}

export interface NodeDispatcherOptions {
  tls: TlsOptions;
  /** Extra headers on every request (e.g. Redfish's OData-Version). */
  headers?: Record<string, string>;
  /** Bytes of an answer that are kept; the rest is read and dropped (a BMC's error page can be large). */
  maxBodyBytes?: number;
}

function toHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
  }
  return out;
}

export function nodeDispatcher(o: NodeDispatcherOptions): Handler {
  const maxBody = o.maxBodyBytes ?? 1024 * 1024;
  return (req) =>
    new Promise((resolve, reject) => {
      const url = wireUrl(req);
      if (req.signal?.aborted) return reject(abortError(req, url, undefined));
      const wire = wireRequest({ ...req, headers: { ...o.headers, ...req.headers } });
      const headers: Record<string, string | number> = { ...wire.headers };
      if (wire.body !== undefined) headers['Content-Length'] = Buffer.byteLength(wire.body);
      let done = false;
      const settle = (fn: () => void) => {
        if (done) return;
        done = true;
        req.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const u = new URL(url);
      const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
      const r = send(u, {
        method: req.method,
        headers,
        agent: false,
        rejectUnauthorized: o.tls.verify,
        ...(o.tls.ca ? { ca: o.tls.ca } : {}),
      });
      const onAbort = () => {
        settle(() => reject(abortError(req, url, req.signal?.reason)));
        r.destroy();
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      r.on('error', (e) => settle(() => reject(connectionError(e, req.method, url))));
      r.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < maxBody) text += d;
        });
        res.on('error', (e) => settle(() => reject(new HttpClientError('connection', `${req.method} ${url}: connection lost: ${e.message}`, { cause: e }))));
        res.on('end', () => {
          const h = toHeaders(res.headers);
          settle(() => resolve({ status: res.statusCode ?? 0, headers: h, body: parseBody(text, h.get('content-type')), text, requestId: requestIdOf(h) }));
        });
      });
      r.end(wire.body);
    });
}
