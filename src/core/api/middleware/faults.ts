// Error responses in Masakari's envelope: {"<key>": {"code": <status>, "message": "<text>"}}, Content-Type
// "application/json; charset=UTF-8", and (once the microversion is known) "OpenStack-API-Version: instance-ha X.Y".
// Anything that is not a MasakariError is a bug: 500 masakariFault without details, logged with the request id.
// Except a database that could not serve (DATABASE_UNAVAILABLE: no node of database.url could, or a COMMIT met a node
// failure so its outcome is unknown; STORE_WAL_SYNC): that is no bug, the API answers 503 serviceUnavailable telling
// the client to check and retry, and logs the details (node names, reasons) rather than sending them.
// Except a client that went away mid-body: that is the client's doing (logged at debug with its address; the 400
// it would have got goes nowhere, and the access log marks the request aborted).

import type { Context, ErrorHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { MasakariError, badRequest } from '../../domain/errors.ts';
import type { Logger } from '../../log.ts';
import { versionString, type ApiEnv } from '../context.ts';
import { toJson } from '../format.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';
import { peerAddress } from '../proxy-headers.ts';
import { RequestAbortedError } from './body.ts';
import { AppError } from '../../errors.ts';

export const VERSION_HEADER = 'OpenStack-API-Version';
export const JSON_ERROR_TYPE = 'application/json; charset=UTF-8';

export function errorResponse(c: Context<ApiEnv>, err: MasakariError, extraHeaders: Record<string, string> = {}): Response {
  // The request id goes in here rather than being added afterwards by the request-id middleware: hono answers HEAD
  // with `new Response(null, res)`, and @hono/node-server's lightweight Response then keeps only the headers it was
  // built with.
  const headers: Record<string, string> = { 'Content-Type': JSON_ERROR_TYPE, [REQUEST_ID_HEADER]: c.get('requestId'), ...extraHeaders };
  const v = c.get('version');
  if (v) {
    headers[VERSION_HEADER] = `instance-ha ${versionString(v)}`;
    headers.Vary = VERSION_HEADER;
  }
  return c.body(toJson({ [err.key]: { code: err.status, message: err.message } }), err.status as ContentfulStatusCode, headers);
}

const UNEXPECTED = 'Unexpected API Error. Please report this at https://bugs.launchpad.net/masakari/ and attach the Masakari API log if possible.';

export function onError(log: Logger): ErrorHandler<ApiEnv> {
  return (err, c) => {
    if (err instanceof MasakariError) return errorResponse(c, err);
    if (err instanceof RequestAbortedError) {
      log.debug(
        { requestId: c.get('requestId'), client: peerAddress(c), method: c.req.method, path: c.req.path, received: err.received },
        'client closed the connection before the request body was complete',
      );
      return errorResponse(c, badRequest('The request body is incomplete: the client closed the connection.'));
    }
    if (err instanceof AppError && DATABASE_DOWN.has(err.code)) {
      log.warn(
        { err: err.message, code: err.code, requestId: c.get('requestId'), method: c.req.method, path: c.req.path },
        'the database could not serve a request',
      );
      return errorResponse(c, databaseUnavailable(c.req.method, err.code));
    }
    log.error({ err, requestId: c.get('requestId'), method: c.req.method, path: c.req.path }, 'unexpected API error');
    return errorResponse(c, unexpectedFault(err));
  };
}

/** The store's codes for a database that could not serve (src/core/store/errors.ts): never a 500. */
const DATABASE_DOWN = new Set(['DATABASE_UNAVAILABLE', 'STORE_WAL_SYNC']);

/**
 * The 503 of a database that could not serve. A change may have been committed before the failure (a COMMIT whose
 * node died): the client is told the outcome is unknown and to check before it repeats the request.
 */
export function databaseUnavailable(method: string, code = 'DATABASE_UNAVAILABLE'): MasakariError {
  const reading = method === 'GET' || method === 'HEAD';
  return new MasakariError(
    503,
    'serviceUnavailable',
    reading
      ? `The database is unavailable (${code}). Retry later.`
      : `The database is unavailable (${code}); the outcome of this request is unknown. Check whether it took effect, then retry if it did not.`,
  );
}

/** The 500 of a bug: Masakari's text and the error's class name, nothing else. */
export function unexpectedFault(err: unknown): MasakariError {
  const name = (err instanceof Error && err.name) || 'Error';
  return new MasakariError(500, 'masakariFault', `${UNEXPECTED}\n<class '${name}'>`);
}

/** Unknown routes: Masakari answers an HTML page; we answer the same status in the JSON envelope. */
export function notFound(c: Context<ApiEnv>): Response {
  return errorResponse(c, new MasakariError(404, 'itemNotFound', 'The resource could not be found.'));
}

/** Routes that exist in Masakari's router but whose controller lacks the action. */
export function methodNotAllowed(action: string) {
  return (c: Context<ApiEnv>): Response => {
    throw new MasakariError(405, 'badMethod', `The request method: '${c.req.method}' with action: '${action}' is not allowed on this resource`);
  };
}
