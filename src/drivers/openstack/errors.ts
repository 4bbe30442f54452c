// Errors of the OpenStack HTTP client. `code` is stable (undici's idea): callers branch on it, never on messages.

export type OpenStackErrorCode =
  /** TCP/TLS level: refused, reset, DNS. `sent` says whether the request may have reached the server. */
  | 'connection'
  /** No answer within the per-request timeout. */
  | 'timeout'
  /** The server answered with a status that the caller did not accept (see `status`). */
  | 'http'
  /** Keystone refused the credentials, or a fresh token was still refused. */
  | 'auth'
  /** The catalog has no endpoint for the service/interface/region asked for. */
  | 'catalog'
  /** The service does not offer the microversion range this client needs. */
  | 'microversion'
  /** The server answered with something that is not what the API documents. */
  | 'bad_response'
  /** The caller aborted the request. */
  | 'aborted';

export class OpenStackError extends Error {
  readonly code: OpenStackErrorCode;
  readonly status: number | null;
  readonly requestId: string | null;
  /** For 'connection': false when the request certainly never reached the server (connection refused). */
  readonly sent: boolean;
  /** Set by the retry interceptor when it gives up, so an outer retry layer does not multiply the attempts. */
  exhausted = false;

  constructor(
    code: OpenStackErrorCode,
    message: string,
    opts: { status?: number; requestId?: string | null; sent?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OpenStackError';
    this.code = code;
    this.status = opts.status ?? null;
    this.requestId = opts.requestId ?? null;
    this.sent = opts.sent ?? true;
  }
}

/**
 * The human message inside an OpenStack error body. Nova wraps it as {"itemNotFound": {"message": ...}},
 * Keystone as {"error": {"message": ...}}, Placement as {"errors": [{"detail": ...}]}.
 */
export function faultMessage(body: unknown): string | null {
  if (typeof body === 'string') return body.trim() === '' ? null : body.trim().slice(0, 500);
  if (typeof body !== 'object' || body === null) return null;
  for (const value of Object.values(body as Record<string, unknown>)) {
    if (Array.isArray(value) && typeof value[0] === 'object' && value[0] !== null) {
      const first = value[0] as Record<string, unknown>;
      const m = first.detail ?? first.message ?? first.title;
      if (typeof m === 'string') return m;
    }
    if (typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>).message === 'string') {
      return (value as Record<string, string>).message!;
    }
  }
  return null;
}
