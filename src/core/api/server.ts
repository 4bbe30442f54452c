// The Node HTTP server in front of the hono app. Some requests are answered before the app runs, by Node's HTTP
// parser or by the adapter (@hono/node-server) that turns a Node request into a web Request:
//   - malformed HTTP (bad header names, NUL bytes, bad chunking, not HTTP at all)  -> 400  ('clientError')
//   - a head over Node's 16 KiB limit                                             -> 431  ('clientError')
//   - a request that did not arrive within Node's request timeout                  -> 408  ('clientError')
//   - CONNECT                                                                     -> 405  ('connect')
//   - an Expect other than 100-continue                                           -> 417  ('checkExpectation')
//   - HTTP/1.1 without Host (RFC 9112 3.2)                                         -> 400  (checked here)
//   - Connection: Upgrade + Upgrade (websocket, h2c...)  -> served as a plain request   ('upgrade', upgrade-offer.ts)
//   - a target or Host the adapter cannot make a URL of (`OPTIONS *`, `Host: a b`) -> 400  (adapter errorHandler)
// Left to their defaults these are an empty text/plain body or a bare status line, with no request id and no
// access-log line. Here each is Masakari's JSON fault with an X-Openstack-Request-Id, logged like any request
// (with the client's address), and never at error level: they are the client's mistakes.

import { getRequestListener, RequestError } from '@hono/node-server';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { splitHostPort } from '../config/types.ts';
import { MasakariError, badRequest } from '../domain/errors.ts';
import { realEnv, type Env } from '../env.ts';
import { silentLogger, type Logger } from '../log.ts';
import { errorMessage } from '../errors.ts';
import type { ApiApp } from './app.ts';
import { toJson } from './format.ts';
import { logRequest } from './middleware/access-log.ts';
import { JSON_ERROR_TYPE, unexpectedFault } from './middleware/faults.ts';
import { REQUEST_ID_HEADER } from './middleware/request-id.ts';
import { inFlightResponse, serveAsPlainRequest } from './upgrade-offer.ts';

export interface RunningApi {
  port: number;
  close(): Promise<void>;
}

export interface ServerDeps {
  /** Where the access-log lines of requests answered here go (the app logs its own). Default: nowhere. */
  log?: Logger;
  env?: Env;
}

/** What a parser error becomes. Node's parse errors carry llhttp's reason ("Invalid header value char"). */
function parserFault(err: NodeJS.ErrnoException & { reason?: string }): MasakariError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new MasakariError(431, 'masakariFault', 'Request header fields too large.');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new MasakariError(413, 'overLimit', 'Request is too large.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new MasakariError(408, 'masakariFault', 'The request did not arrive in time.');
    case 'HPE_INVALID_EOF_STATE':
      return badRequest('The connection ended before the request was complete.');
    default:
      return badRequest(`Malformed HTTP request: ${err.reason ?? errorMessage(err)}.`);
  }
}

/** Method and path of the request line at the start of `raw`, when there is a readable one (for the log only). */
function requestLine(raw: Buffer | undefined): { method?: string; path?: string } {
  const m = raw && /^([A-Z-]{1,20}) ([\x21-\x7e]{1,512}) HTTP\/\d\.\d\r?\n/.exec(raw.subarray(0, 600).toString('latin1'));
  return m ? { method: m[1]!, path: m[2]!.split('?')[0]! } : {};
}

class Edge {
  /** Connections whose parser failed and that were answered (the parser keeps reporting the same failure). */
  private readonly answered = new WeakSet<Socket>();

  constructor(
    private readonly log: Logger,
    private readonly env: Env,
  ) {}

  private fault(err: MasakariError): { id: string; body: string; headers: Record<string, string> } {
    const id = `req-${this.env.uuid()}`;
    const body = toJson({ [err.key]: { code: err.status, message: err.message } });
    return { id, body, headers: { 'Content-Type': JSON_ERROR_TYPE, [REQUEST_ID_HEADER]: id } };
  }

  /** Answers on a connection that has no usable ServerResponse, then closes it. */
  private answerOnSocket(socket: Socket, err: MasakariError, log: { method?: string | undefined; path?: string | undefined; rejected?: string }): void {
    const f = this.fault(err);
    const head = [`HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}`];
    for (const [k, v] of Object.entries({ ...f.headers, 'Content-Length': String(Buffer.byteLength(f.body)), Connection: 'close' })) head.push(`${k}: ${v}`);
    logRequest(this.log, { requestId: f.id, ...log, status: err.status, ms: 0, client: socket.remoteAddress });
    // Node hands over a CONNECT socket without any 'error' listener: a client that reset it would make this write's
    // ECONNRESET an uncaught exception (the process would exit).
    if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
    if (!socket.writable) return void socket.destroy();
    socket.end(`${head.join('\r\n')}\r\n\r\n${f.body}`);
    // A client that stops reading must not keep the socket forever.
    const timer = setTimeout(() => socket.destroy(), 5000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  /** Answers through Node's ServerResponse (the request was parsed; the app is not asked). */
  answer(req: IncomingMessage, res: ServerResponse, err: MasakariError): void {
    const f = this.fault(err);
    logRequest(this.log, { requestId: f.id, method: req.method, path: req.url?.split('?')[0], status: err.status, ms: 0, client: req.socket.remoteAddress });
    res.writeHead(err.status, f.headers);
    res.end(f.body);
  }

  /** The adapter's errorHandler: it could not build a Request (RequestError), or the app's fetch rejected. */
  adapterFailed(req: IncomingMessage, e: unknown): Response {
    let err: MasakariError;
    if (e instanceof RequestError) err = badRequest(`Bad request: ${e.message}.`);
    else {
      // hono's onError turns every Error into a response; reaching this is a bug in the app.
      this.log.error({ err: e, method: req.method, path: req.url }, 'unexpected API error');
      err = unexpectedFault(e);
    }
    const f = this.fault(err);
    logRequest(this.log, { requestId: f.id, method: req.method, path: req.url?.split('?')[0], status: err.status, ms: 0, client: req.socket.remoteAddress });
    return new Response(f.body, { status: err.status, headers: f.headers });
  }

  clientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
    if (this.answered.has(socket)) return;
    this.answered.add(socket);
    const client = socket.remoteAddress;
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
      // The client is gone: nobody to answer. The request it was sending, if any, sees the abort itself.
      this.log.debug({ client, reason: err.code ?? errorMessage(err) }, 'client connection failed');
      return void socket.destroy();
    }
    const inFlight = inFlightResponse(socket);
    if (inFlight?.headersSent) {
      // An answer is being written on this connection: an error cannot be put in the middle of it.
      this.log.debug({ client, reason: err.code }, 'malformed request while a response was being written; connection closed');
      return void socket.destroy();
    }
    // The request line: the in-flight request's when its own body broke off, else what the parser choked on.
    const line = inFlight && !inFlight.req.complete ? { method: inFlight.req.method, path: inFlight.req.url?.split('?')[0] } : requestLine(err.rawPacket);
    const rejected = { ...line, rejected: err.code ?? 'unknown' };
    if (inFlight?.req.complete) {
      // The malformed request is pipelined behind complete ones: answer those first, then this one.
      const whenIdle = () => {
        if (socket.destroyed) return;
        const r = inFlightResponse(socket);
        if (r) r.once('close', whenIdle);
        else this.answerOnSocket(socket, parserFault(err), rejected);
      };
      return whenIdle();
    }
    // No request in flight, or the one in flight is the malformed one (its body broke off or is badly chunked): it
    // gets this answer, and the app, which sees its body end early, logs it as aborted.
    this.answerOnSocket(socket, parserFault(err), rejected);
  }

  /** An upgrade offer that cannot be served as a plain request (upgrade-offer.ts: Node 26, with a body). */
  refuseUpgrade(req: IncomingMessage, stream: Duplex): void {
    // Not destroyed here: that would destroy the socket before the answer is written. The wrapper follows the
    // socket's close, and re-emits its errors (which must not become uncaught exceptions).
    stream.on('error', () => undefined);
    this.answerOnSocket(req.socket, badRequest('Protocol upgrades are not supported with a request body.'), {
      method: req.method,
      path: req.url?.split('?')[0],
    });
  }

  connect(req: IncomingMessage, socket: Socket): void {
    this.answerOnSocket(socket, new MasakariError(405, 'badMethod', "The request method: 'CONNECT' is not allowed on this server"), {
      method: req.method,
      path: req.url,
    });
  }
}

/** Serves the app on "HOST:PORT" (port 0 picks a free one). Resolves once listening. */
export function startApiServer(app: Pick<ApiApp, 'fetch'>, listen: string, deps: ServerDeps = {}): Promise<RunningApi> {
  const { host, port } = splitHostPort(listen);
  const edge = new Edge((deps.log ?? silentLogger).child({ component: 'api' }), deps.env ?? realEnv);
  const server = createServer(
    // Node's own Host check answers an empty 400; edge.answer does it in the API's format instead.
    { requireHostHeader: false },
    (req, res) => {
      if (req.headers.host === undefined && req.httpVersion === '1.1') return edge.answer(req, res, badRequest('Missing Host header.'));
      // A listener per request, so the errorHandler knows which request failed (it is only given the error).
      void getRequestListener(app.fetch, { hostname: host, errorHandler: (e) => edge.adapterFailed(req, e) })(req, res);
    },
  );
  // A client may half-close its side once the request is sent (shutdown(SHUT_WR): socat, nc, some HTTP/1.0 code).
  // By default Node then ends the connection at once and an answer still being prepared (a Keystone round trip) is
  // lost; with this (Node's own switch, the property its http tests use) the answer is written, then it closes.
  (server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // The peer's address, asked while the connection is fresh: Node remembers it, and once the client has reset the
  // connection it can no longer be asked (the access line of an aborted request must still name the client).
  server.on('connection', (socket: Socket) => void socket.remoteAddress);
  server.on('clientError', (err: Error, socket) => edge.clientError(err, socket as Socket));
  server.on('connect', (req: IncomingMessage, socket) => edge.connect(req, socket as Socket));
  // The API never switches protocols: a request offering to is served as the plain request it also is.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, rest: Buffer) => {
    if (!serveAsPlainRequest(server, req, socket, rest)) edge.refuseUpgrade(req, socket);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
    edge.answer(req, res, new MasakariError(417, 'masakariFault', 'Only the expectation 100-continue is supported.')),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
            // Idle keep-alive connections would hold close() open.
            server.closeAllConnections();
          }),
      });
    });
  });
}
