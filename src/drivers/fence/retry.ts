// Retry with exponential backoff for one fencing step. Only failures that a second attempt can fix are retried
// (see isRetryable): a wrong password stays wrong, and hammering a BMC with bad logins can lock its account.

import { AbortError, type Env } from '../../core/env.ts';
import { FenceError, isRetryable } from './errors.ts';

export interface RetryPolicy {
  /** Further attempts after the first. */
  retries: number;
  /** Wait before the first retry, doubled for each further one. */
  backoffMs: number;
  env: Env;
  signal?: AbortSignal | undefined;
  /** Called before each wait, for logging. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

const MAX_BACKOFF_MS = 30_000;

/** Delay before retry number `n` (1-based): backoff·2^(n-1), capped, plus up to 20 % jitter so that many hosts
 * fenced at once do not hit a shared management network in lockstep. */
export function backoffDelay(n: number, backoffMs: number, random: () => number): number {
  const base = Math.min(backoffMs * 2 ** (n - 1), MAX_BACKOFF_MS);
  return Math.round(base * (1 + 0.2 * random()));
}

export async function sleepOrAbort(env: Env, ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await env.sleep(ms, signal);
  } catch (e) {
    if (e instanceof AbortError) throw new FenceError('aborted', 'fencing operation aborted');
    throw e;
  }
}

export interface Attempted<T> {
  value: T;
  attempts: number;
}

/** Runs `fn(attempt)` until it succeeds, fails with a non-retryable error, or the retries are used up. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, p: RetryPolicy): Promise<Attempted<T>> {
  for (let attempt = 1; ; attempt++) {
    if (p.signal?.aborted) throw new FenceError('aborted', 'fencing operation aborted');
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (e) {
      // The caller learns how many attempts were made from the `attempt` argument it was last given.
      if (attempt > p.retries || !isRetryable(e) || p.signal?.aborted) throw e;
      const delay = backoffDelay(attempt, p.backoffMs, () => p.env.random());
      p.onRetry?.(e, attempt, delay);
      await sleepOrAbort(p.env, delay, p.signal);
    }
  }
}
