// Errors of the fencing drivers. Each carries a stable code, so the engine (and operators reading logs) can tell a
// wrong password, which retrying will not fix, from a BMC that did not answer, which it may.
// Messages name the host and the BMC address, never a credential: they end up in logs and in notification progress.

export type FenceErrorCode =
  /** The BMC rejected the credentials (IPMI RAKP failure, HTTP 401/403, agent reports a login failure). */
  | 'auth'
  /** Nothing answered at the BMC address (no route, connection refused, no IPMI session response). */
  | 'unreachable'
  /** One attempt took longer than its timeout and was abandoned (the process was killed, the request aborted). */
  | 'timeout'
  /** The BMC answered, but not in a way we understand (unexpected output, JSON without PowerState, HTTP 5xx). */
  | 'protocol'
  /** The fence program or BMC reported a failure of the power command itself. */
  | 'failed'
  /** Configuration that cannot work: password file missing, env var unset, program not found. */
  | 'config'
  /** The host has no fencer in the `fencing` section. */
  | 'not_configured'
  /** The caller's AbortSignal fired. */
  | 'aborted';

export class FenceError extends Error {
  constructor(
    readonly code: FenceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FenceError';
  }
}

/** Retrying these cannot help, or could hurt (repeated bad logins may lock the BMC account). */
export function isRetryable(e: unknown): boolean {
  if (!(e instanceof FenceError)) return true;
  return e.code === 'unreachable' || e.code === 'timeout' || e.code === 'protocol' || e.code === 'failed';
}
