// Errors of the fencing drivers. The class and its codes live in core's port (src/core/ports/fence.ts), so the
// engine can tell a wrong password, which retrying will not fix, from a BMC that did not answer, which it may,
// without importing drivers. Messages name the host and the BMC address, never a credential: they end up in logs
// and in notification progress.
//
// Codes:
//   auth            the BMC rejected the credentials (IPMI RAKP failure, HTTP 401/403)
//   unreachable     nothing answered at the BMC address (no route, connection refused, no IPMI session response)
//   timeout         one attempt took longer than its timeout and was abandoned (process killed, request aborted)
//   protocol        the BMC answered, but not in a way we understand (unexpected output, no PowerState, HTTP 5xx)
//   failed          the fence program or BMC reported a failure of the power command itself
//   config          configuration that cannot work: password file missing, env var unset, program not found,
//                   cipher suite refused, untrusted TLS certificate
//   not_configured  the host has no fencer in the `fencing` section
//   aborted         the caller's AbortSignal fired

import { FenceError, type FenceErrorCode } from '../../core/ports/fence.ts';

export { FenceError, type FenceErrorCode };

/** Retrying these cannot help, or could hurt (repeated bad logins may lock the BMC account). */
export function isRetryable(e: unknown): boolean {
  if (!(e instanceof FenceError)) return true;
  return e.code === 'unreachable' || e.code === 'timeout' || e.code === 'protocol' || e.code === 'failed';
}
