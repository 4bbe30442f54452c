// Errors of the outbound HTTP client (every call to Keystone, Nova, the controller and Redfish BMCs).
// `code` is stable (undici's idea): callers branch on it, never on messages. A driver that speaks a richer protocol
// widens the family with codes of its own (OpenStack adds 'catalog' and 'microversion', see
// ../openstack/errors.ts) but throws the same class, so every interceptor here recognises every error of the stack.

import { AppError } from '../../core/errors.ts';

export type HttpClientErrorCode =
  /** TCP/TLS level: refused, reset, DNS, certificate. `sent` says whether the request may have reached the server. */
  | 'connection'
  /** No answer within the per-request timeout. */
  | 'timeout'
  /** The server answered with a status that the caller did not accept (see `status`). */
  | 'http'
  /** The server refused the credentials, or a fresh token was still refused. */
  | 'auth'
  /** The server answered with something that is not what its API documents. */
  | 'bad_response'
  /** The caller aborted the request. */
  | 'aborted';

export class HttpClientError<C extends string = HttpClientErrorCode> extends AppError {
  readonly code: C;
  readonly status: number | null;
  readonly requestId: string | null;
  /** For 'connection': false when the request certainly never reached the server (connection refused). */
  readonly sent: boolean;
  /** Set by the retry interceptor when it gives up, so an outer retry layer does not multiply the attempts. */
  exhausted = false;

  constructor(code: C, message: string, opts: { status?: number; requestId?: string | null; sent?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.status = opts.status ?? null;
    this.requestId = opts.requestId ?? null;
    this.sent = opts.sent ?? true;
  }
}

/**
 * `instanceof HttpClientError` with a usable type: the class is generic, so plain instanceof narrows to
 * HttpClientError<any>. Any layer may have raised it (OpenStack's add 'catalog' and 'microversion'): the code is a string.
 */
export function isHttpClientError(e: unknown): e is HttpClientError<string> {
  return e instanceof HttpClientError;
}

/**
 * The system error code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT...) behind a transport failure. Node's fetch
 * reports socket problems as TypeError('fetch failed') with the system error as `cause`, node:https directly.
 */
export function systemErrorCode(e: unknown): string | undefined {
  let cause: unknown = e;
  for (let i = 0; i < 4 && cause && typeof cause === 'object'; i++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && !(cause instanceof HttpClientError)) return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The message of the system error behind a transport failure (the innermost one that has a code), if any. */
export function systemErrorMessage(e: unknown): string | undefined {
  let cause: unknown = e;
  for (let i = 0; i < 4 && cause && typeof cause === 'object'; i++) {
    const c = cause as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof c.code === 'string' && !(cause instanceof HttpClientError) && typeof c.message === 'string') return c.message;
    cause = c.cause;
  }
  return undefined;
}
