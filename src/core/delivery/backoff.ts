// Exponential backoff with jitter: the n-th retry waits initial * 2^n, capped, then scaled by a random factor in
// [0.5, 1) so that many agents that lost the controller at the same moment do not all come back in lockstep.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(failures: number, opts: BackoffOptions, random: () => number): number {
  const exp = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(Math.max(0, failures - 1), 40));
  return Math.round(exp * (0.5 + random() / 2));
}
