// Errors of the OpenStack HTTP client. `code` is stable (undici's idea): callers branch on it, never on messages.

import { HttpClientError, type HttpClientErrorCode } from '../http/errors.ts';

/**
 * The codes of the shared HTTP client (../http/errors.ts: connection, timeout, http, auth, bad_response, aborted)
 * and two of OpenStack's own.
 */
export type OpenStackErrorCode =
  | HttpClientErrorCode
  /** The catalog has no endpoint for the service/interface/region asked for. */
  | 'catalog'
  /** The service does not offer the microversion range this client needs. */
  | 'microversion';

/**
 * The shared client's error class with OpenStack's codes: one class, so that `instanceof OpenStackError` holds for
 * a refused connection or a timeout raised below the OpenStack interceptors as much as for a catalog error.
 */
export const OpenStackError = HttpClientError<OpenStackErrorCode>;
export type OpenStackError = HttpClientError<OpenStackErrorCode>;

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
