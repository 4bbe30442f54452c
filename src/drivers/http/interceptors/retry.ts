// Retries with exponential backoff and jitter. What is retried depends on whether the request can have run:
// - connection refused (never reached the server): always;
// - 502/503/504 (a proxy or an overloaded API answered; the request did not run): always;
// - 500, a reset connection or a timeout (the request may have run): only idempotent methods. Retrying a POST
//   action such as evacuate after it may have run would start a second rebuild.
// Retry-After on 503 is honoured up to maxDelayMs. Sleeping and jitter go through Env (virtual time in tests).

import type { Env } from '../../../core/env.ts';
import type { Logger } from '../../../core/log.ts';
import { errorMessage } from '../../../core/errors.ts';
import { HttpClientError } from '../errors.ts';
import { IDEMPOTENT, type Handler, type HttpRequest, type HttpResponse } from '../http.ts';

export interface RetryOptions {
  /** Extra attempts after the first. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  env: Env;
  logger?: Logger;
  /** The log message of a retry, naming the service (default 'http request failed; retrying'). */
  message?: string;
}

const ALWAYS_RETRY_STATUS = new Set([502, 503, 504]);

function retryableResponse(req: HttpRequest, res: HttpResponse): boolean {
  return ALWAYS_RETRY_STATUS.has(res.status) || (res.status === 500 && IDEMPOTENT.has(req.method));
}

function retryableError(req: HttpRequest, e: unknown): boolean {
  if (!(e instanceof HttpClientError) || e.exhausted) return false;
  if (e.code === 'connection') return !e.sent || IDEMPOTENT.has(req.method);
  if (e.code === 'timeout') return IDEMPOTENT.has(req.method);
  // A failed sub-request made on the caller's behalf (the microversion discovery GET).
  if (e.code === 'http' && e.status !== null) return ALWAYS_RETRY_STATUS.has(e.status) || e.status === 500;
  return false;
}

/** Delay before attempt n+1 (n from 0): base*2^n, capped, with "equal jitter" so clients do not retry in step. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const d = Math.min(maxMs, baseMs * 2 ** attempt);
  return d / 2 + (d / 2) * random();
}

function retryAfterMs(res: HttpResponse): number | null {
  const h = res.headers.get('retry-after');
  if (h === null) return null;
  const s = Number(h);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : null;
}

export function retryInterceptor(o: RetryOptions) {
  return <R extends HttpRequest>(next: Handler<R>): Handler<R> =>
    async (req) => {
      for (let attempt = 0; ; attempt++) {
        let why: string;
        let delay = backoffDelay(attempt, o.baseDelayMs, o.maxDelayMs, () => o.env.random());
        try {
          const res = await next(req);
          if (attempt >= o.retries || !retryableResponse(req, res)) return res;
          why = `HTTP ${res.status}`;
          const ra = retryAfterMs(res);
          if (ra !== null) delay = Math.min(ra, o.maxDelayMs);
        } catch (e) {
          if (attempt >= o.retries || !retryableError(req, e) || req.signal?.aborted) {
            if (e instanceof HttpClientError) e.exhausted = true;
            throw e;
          }
          why = errorMessage(e);
        }
        o.logger?.warn(
          { method: req.method, url: req.url, attempt: attempt + 1, delayMs: Math.round(delay), why },
          o.message ?? 'http request failed; retrying',
        );
        await o.env.sleep(delay, req.signal);
      }
    };
}
