// Request bodies. Before authentication only the declared size is checked (oslo sizelimit: 413); the body itself
// is read after it, so a caller without a valid token cannot make the server read (or wait for) anything. Then,
// for the resources, JSON decoding with Masakari's rules: no or text/plain Content-Type means JSON, other non-JSON
// types are 415, an empty body is JSON null (so validation says "None is not of type 'object'"), bad JSON is 400.
// A client that goes away before its body is complete is a client event (RequestAbortedError), not a server fault.

import type { Context, MiddlewareHandler } from 'hono';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.ts';
import { MasakariError, badRequest } from '../../domain/errors.ts';
import type { ApiEnv } from '../context.ts';
import { requestHeader } from '../request-header.ts';

/** The client closed (or reset) the connection before the request body was complete. */
export class RequestAbortedError extends AppError {
  readonly code = 'REQUEST_ABORTED';
  constructor(
    /** Body bytes that did arrive. */
    readonly received: number,
    options?: { cause?: unknown },
  ) {
    super(`the client closed the connection after ${received} bytes of the request body`, options);
  }
}

const EMPTY = new Uint8Array(0);
const tooLarge = () => new MasakariError(413, 'overLimit', 'Request is too large.');

async function readCapped(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const ch of chunks) {
    out.set(ch, at);
    at += ch.byteLength;
  }
  return out;
}

/**
 * Node's request stream, read directly (no web-stream wrapper per chunk); same cap as readCapped. Plain listeners,
 * not for-await: leaving a for-await loop destroys the stream, and with it the socket the 413 must go out on.
 * The stream may already be gone when this starts (the client left while authentication ran): Node then emits
 * nothing more, so that is checked first.
 */
function readIncomingCapped(incoming: Readable, max: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        cleanup();
        incoming.resume(); // drain the rest so the connection stays usable for the 413
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    // Node reports a connection that ended mid-body as 'error' (ECONNRESET "aborted"), then 'close'.
    const onError = (e: Error) => {
      cleanup();
      reject(new RequestAbortedError(size, { cause: e }));
    };
    const onClose = () => {
      cleanup();
      reject(new RequestAbortedError(size));
    };
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    if (incoming.readableEnded) return resolve(EMPTY);
    if (incoming.destroyed) return reject(new RequestAbortedError(0));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** Before authentication: a declared Content-Length over the limit is 413 at once; nothing is read. */
export function declaredSizeLimit(maxBytes: number): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const declared = requestHeader(c, 'content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
    await next();
  };
}

/** After authentication: the body, read once and capped (413 also for chunked bodies without a length). */
export function readBody(maxBytes: number): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') {
      // Touching c.req.raw.body would make @hono/node-server build a full web Request just to find no body.
      c.set('rawBody', EMPTY);
    } else {
      // Under @hono/node-server the Node request is in c.env.incoming; app.request() in tests has only the web body.
      const incoming = (c.env as { incoming?: Readable } | undefined)?.incoming;
      if (incoming && typeof incoming.on === 'function') c.set('rawBody', await readIncomingCapped(incoming, maxBytes));
      else {
        const stream = c.req.raw.body;
        c.set('rawBody', stream ? await readCapped(stream, maxBytes) : EMPTY);
      }
    }
    await next();
  };
}

const JSON_TYPES = new Set(['application/json', 'application/vnd.openstack.masakari+json']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The decoded JSON body of a POST/PUT (null when empty). */
export function jsonBody(c: Context<ApiEnv>): unknown {
  const bytes = c.get('rawBody');
  if (bytes.byteLength === 0) return null;
  const ct = requestHeader(c, 'content-type');
  const mediaType = ct?.split(';')[0]!.trim().toLowerCase();
  if (mediaType && mediaType !== 'text/plain' && !JSON_TYPES.has(mediaType)) {
    throw new MasakariError(415, 'badMediaType', 'Unsupported Content-Type');
  }
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw badRequest('Malformed request body');
  }
}
