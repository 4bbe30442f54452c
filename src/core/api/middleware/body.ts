// Request bodies: a hard size limit before anything else runs (oslo sizelimit: 413), then, for the resources,
// JSON decoding with Masakari's rules: no or text/plain Content-Type means JSON, other non-JSON types are 415,
// an empty body is JSON null (so validation says "None is not of type 'object'"), bad JSON is 400.

import type { Context, MiddlewareHandler } from 'hono';
import { MasakariError, badRequest } from '../../domain/errors.ts';
import type { ApiEnv } from '../context.ts';

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

export function bodyLimit(maxBytes: number): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
    const stream = c.req.raw.body;
    c.set('rawBody', stream && c.req.method !== 'GET' && c.req.method !== 'HEAD' ? await readCapped(stream, maxBytes) : EMPTY);
    await next();
  };
}

const JSON_TYPES = new Set(['application/json', 'application/vnd.openstack.masakari+json']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The decoded JSON body of a POST/PUT (null when empty). */
export function jsonBody(c: Context<ApiEnv>): unknown {
  const bytes = c.get('rawBody');
  if (bytes.byteLength === 0) return null;
  const ct = c.req.header('content-type');
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
