// HTTP/1.1 over a plain TCP socket, for requests fetch() refuses to send (bad header names, NUL bytes, `OPTIONS *`,
// truncated bodies, a client that goes away mid-body) and for reading exactly what the server wrote back.

import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  /** The first response on the connection; undefined when the server closed it without answering. */
  response: RawResponse | undefined;
  /** Everything the server sent, as latin1 text (for failure messages). */
  raw: string;
}

/** How the client ends its side after writing: wait for the answer, half-close (FIN), close, or reset (RST). */
export type ClientEnd = 'wait' | 'half-close' | 'destroy' | 'reset';

/** Parses one response from the start of `data`; undefined while it is incomplete. */
export function parseResponse(data: Buffer, closed: boolean, forHead = false): RawResponse | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const lines = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(headEnd + 4);
  if (forHead || status === 204 || status === 304 || (status >= 100 && status < 200)) return { status, headers, body: '' };
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (rest.length < n) return undefined;
    return { status, headers, body: rest.subarray(0, n).toString('utf8') };
  }
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', at);
      if (eol < 0) return undefined;
      const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size in response');
      if (size === 0) return { status, headers, body: Buffer.concat(parts).toString('utf8') };
      if (rest.length < eol + 2 + size + 2) return undefined;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  // Neither length nor chunking: the body runs to the end of the connection.
  return closed ? { status, headers, body: rest.toString('utf8') } : undefined;
}

/**
 * Sends `request` (bytes as given) on a new connection and returns the first response. 100 Continue interim
 * responses are skipped. Resolves when a whole response arrived, when the server closed the connection, or after
 * `timeoutMs` (then `response` is undefined).
 */
export function rawRequest(port: number, request: string | Buffer, opts: { end?: ClientEnd; timeoutMs?: number; host?: string } = {}): Promise<RawExchange> {
  const end = opts.end ?? 'wait';
  const forHead = /^HEAD /.test(typeof request === 'string' ? request : request.subarray(0, 5).toString('latin1'));
  return new Promise((resolve) => {
    const socket = connect({ port, host: opts.host ?? '127.0.0.1' });
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (response: RawResponse | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, raw: data.toString('latin1') });
    };
    const timer = setTimeout(() => finish(undefined), opts.timeoutMs ?? 5000);
    const tryParse = (closed: boolean) => {
      let start = data;
      // Skip interim 1xx answers (Expect: 100-continue).
      for (;;) {
        const r = parseResponse(start, closed, forHead);
        if (r && r.status >= 100 && r.status < 200) {
          start = start.subarray(start.indexOf('\r\n\r\n') + 4);
          continue;
        }
        return r;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      try {
        const r = tryParse(false);
        if (r) finish(r);
      } catch {
        finish(undefined);
      }
    });
    socket.on('error', () => finish(safeParse(() => tryParse(true))));
    socket.on('close', () => finish(safeParse(() => tryParse(true))));
    socket.on('connect', () => {
      socket.write(request);
      if (end === 'half-close') socket.end();
      else if (end === 'destroy') setImmediate(() => finish(undefined));
      else if (end === 'reset') setImmediate(() => (socket.resetAndDestroy(), finish(undefined)));
    });
  });
}

function safeParse(f: () => RawResponse | undefined): RawResponse | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
