// Error responses in Masakari's envelope: {"<key>": {"code": <status>, "message": "<text>"}}, Content-Type
// "application/json; charset=UTF-8", and (once the microversion is known) "OpenStack-API-Version: instance-ha X.Y".
// Anything that is not a MasakariError is a bug: 500 masakariFault without details, logged with the request id.

import type { Context, ErrorHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { MasakariError } from '../../domain/errors.ts';
import type { Logger } from '../../log.ts';
import { versionString, type ApiEnv } from '../context.ts';
import { toJson } from '../format.ts';

export const VERSION_HEADER = 'OpenStack-API-Version';
export const JSON_ERROR_TYPE = 'application/json; charset=UTF-8';

export function errorResponse(c: Context<ApiEnv>, err: MasakariError, extraHeaders: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { 'Content-Type': JSON_ERROR_TYPE, ...extraHeaders };
  const v = c.get('version');
  if (v) {
    headers[VERSION_HEADER] = `instance-ha ${versionString(v)}`;
    headers.Vary = VERSION_HEADER;
  }
  return c.body(toJson({ [err.key]: { code: err.status, message: err.message } }), err.status as ContentfulStatusCode, headers);
}

const UNEXPECTED =
  'Unexpected API Error. Please report this at https://bugs.launchpad.net/masakari/ and attach the Masakari API log if possible.';

export function onError(log: Logger): ErrorHandler<ApiEnv> {
  return (err, c) => {
    if (err instanceof MasakariError) return errorResponse(c, err);
    log.error({ err, requestId: c.get('requestId'), method: c.req.method, path: c.req.path }, 'unexpected API error');
    return errorResponse(c, new MasakariError(500, 'masakariFault', `${UNEXPECTED}\n<class '${err.name || 'Error'}'>`));
  };
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
