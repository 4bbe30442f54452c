// Waiting for the backend to reach a state, without fixed sleeps: ask every `intervalMs` until `check` says yes
// or `timeoutMs` has passed. All time goes through Env, so the simulator runs this on virtual time.

import type { Env } from '../env.ts';

export interface PollOptions {
  intervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Resolves true as soon as `check()` is true (checked at once, then every interval); false on timeout. */
export async function pollUntil(env: Env, check: () => Promise<boolean>, opts: PollOptions): Promise<boolean> {
  const deadline = env.nowMs() + opts.timeoutMs;
  // A zero interval would spin without letting virtual time move; 1 ms is the floor.
  const interval = Math.max(1, opts.intervalMs);
  for (;;) {
    if (await check()) return true;
    const left = deadline - env.nowMs();
    if (left <= 0) return false;
    await env.sleep(Math.min(interval, left), opts.signal);
  }
}
