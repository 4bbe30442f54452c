// What a role tells systemd when its unit is `Type=notify` (packaging/systemd/*.service, docs/packaging.md):
//   - READY=1 once the role's start() resolved: the API is bound, the store open, the monitors started (connected,
//     or retrying on their own). Not before: systemd orders dependent units and `systemctl start` returns on it.
//   - WATCHDOG=1 every WatchdogSec/4 while the event loop is healthy. A timer measures its own lag: a tick that
//     comes more than WatchdogSec/2 late means the loop was blocked (a synchronous call that hung, a busy loop),
//     and that tick sends nothing, so a loop stuck for WatchdogSec gets the process killed and restarted
//     (Restart=on-failure) instead of a role that looks alive but serves nothing.
//   - STOPPING=1 when a signal starts the stop.
// Without $NOTIFY_SOCKET (run by hand, in a container, by tests) all of this is a no-op.

import type { Logger } from '../core/log.ts';
import { errorMessage } from '../core/errors.ts';
import { openNotifier, type Notifier } from '../drivers/systemd/notify.ts';

export interface ServiceManager {
  ready(status: string): void;
  stopping(): void;
  close(): void;
}

const noop: ServiceManager = { ready: () => undefined, stopping: () => undefined, close: () => undefined };

/** The watchdog period systemd asks for (WATCHDOG_USEC), in ms, or null when it is off or meant for another process. */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return usec / 1000;
}

export async function connectServiceManager(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ServiceManager> {
  const periodMs = watchdogPeriodMs(env);
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  let notifier: Notifier;
  try {
    notifier = await openNotifier(env);
  } catch (e) {
    // Readiness then never comes and systemd says why (start timeout); the log line says what went wrong.
    log.error({ err: errorMessage(e) }, 'cannot open the systemd notification socket');
    return noop;
  }
  if (!notifier.enabled) return noop;
  const slog = log.child({ component: 'systemd' });
  let lastFailure: string | null = null;
  const send = (message: string) => {
    const failure = notifier.send(message);
    // One line per kind of failure, not one per watchdog tick.
    if (failure && failure !== lastFailure) slog.warn({ err: failure }, `cannot notify systemd (${message.split('\n')[0]})`);
    lastFailure = failure;
  };
  const watchdog = periodMs === null ? null : startWatchdog(periodMs, () => send('WATCHDOG=1'), slog);
  return {
    ready: (status) => send(`READY=1\nSTATUS=${status}`),
    stopping: () => send('STOPPING=1\nSTATUS=stopping'),
    close: () => {
      watchdog?.stop();
      notifier.close();
    },
  };
}

/** Calls `ping` every periodMs/4 unless the tick itself came more than periodMs/2 late (a blocked event loop). */
export function startWatchdog(periodMs: number, ping: () => void, log: Logger): { stop(): void } {
  const tickMs = Math.max(50, Math.floor(periodMs / 4));
  const maxLagMs = periodMs / 2;
  let expected = performance.now() + tickMs;
  ping();
  const timer = setInterval(() => {
    const now = performance.now();
    const lag = now - expected;
    expected = now + tickMs;
    if (lag > maxLagMs) {
      log.warn({ lag_ms: Math.round(lag), watchdog_ms: periodMs }, `event loop was blocked for ${Math.round(lag)} ms: this watchdog ping is skipped`);
      return;
    }
    ping();
  }, tickMs);
  // The watchdog never keeps a stopping process alive.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
