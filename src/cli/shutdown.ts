// How a running role ends: the first SIGTERM or SIGINT starts its stop (in the role's written order), bounded by
// shutdown_timeout. Whatever libvirt, a peer or the terminal does, the process then ends:
//   - stopped cleanly: exit 0; a step failed: exit 1 (the step is logged);
//   - the bound passed: exit 1, after a log line naming what had not stopped;
//   - a second SIGINT (Ctrl-C twice) while stopping: exit 130 at once, naming what had not stopped. A SIGTERM
//     while stopping changes nothing (scripts/lab.sh forwards Ctrl-C as SIGTERM: that one is not a second request).
// The caller ends the process with src/core/exit.ts, which does not wait for threads stuck in native calls.

import type { Logger } from '../core/log.ts';
import { errorMessage } from '../core/errors.ts';
import type { Running } from '../roles/types.ts';

export const EXIT_STOP_FAILED = 1;
export const EXIT_INTERRUPTED = 130;

/** Resolves with the exit code once the role stopped, or gave up stopping (see the header). `onStopping`: the stop began. */
export function runUntilSignal(running: Running, log: Logger, timeoutMs: number, onStopping?: () => void): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(code);
    };
    const notStopped = () => {
      const p = running.pending?.() ?? [];
      return p.length ? p : ['(the role did not say)'];
    };
    function onSignal(signal: NodeJS.Signals) {
      if (stopping) {
        if (signal !== 'SIGINT') {
          log.info({ signal }, `${signal} while stopping: already stopping (at most ${timeoutMs / 1000} s)`);
          return;
        }
        const p = notStopped();
        log.warn({ signal, not_stopped: p }, `second ${signal}: exiting now without waiting for: ${p.join('; ')}`);
        finish(EXIT_INTERRUPTED);
        return;
      }
      stopping = true;
      onStopping?.();
      log.info({ signal, shutdown_timeout: timeoutMs / 1000 }, 'stopping');
      const timer = setTimeout(() => {
        const p = notStopped();
        log.error(
          { not_stopped: p, shutdown_timeout: timeoutMs / 1000 },
          `did not stop within shutdown_timeout (${timeoutMs / 1000} s); exiting anyway. Not stopped: ${p.join('; ')}`,
        );
        finish(EXIT_STOP_FAILED);
      }, timeoutMs);
      running.stop().then(
        () => {
          clearTimeout(timer);
          log.info('stopped');
          finish(0);
        },
        (e: unknown) => {
          clearTimeout(timer);
          log.error({ err: errorMessage(e) }, 'error while stopping');
          finish(EXIT_STOP_FAILED);
        },
      );
    }
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
