// A role's stop order as data: the steps run one after the other, a failing step is logged and the next still
// runs, and at any moment the sequence can say which steps have not finished. The serve command bounds the whole
// stop (shutdown_timeout) and, when the bound passes, names those steps in its last log line.

import type { Logger } from '../core/log.ts';
import { errorMessage } from '../core/errors.ts';

export interface StopStep {
  /** What stops, for people ("monitors", "API server", "libvirt connections"). */
  name: string;
  stop: () => Promise<void> | void;
  /** A step that is itself a sequence (the compute part of --role=all) details what it still waits for. */
  pending?: () => string[];
}

export interface StopSequence {
  /** Runs the steps once (later calls return the same promise); rejects with the first step's error, after all ran. */
  stop(): Promise<void>;
  /** The steps not finished yet, the one in progress first (with its own detail); empty once done. */
  pending(): string[];
}

export function stopSequence(steps: StopStep[], log: Logger): StopSequence {
  let next = 0;
  let running: Promise<void> | null = null;
  const run = async () => {
    // Boxed: a step may reject with any value, even null or undefined.
    let first: { error: unknown } | null = null;
    for (; next < steps.length; next++) {
      const step = steps[next]!;
      try {
        await step.stop();
      } catch (e) {
        log.error({ err: errorMessage(e), step: step.name }, `${step.name} did not stop cleanly`);
        first ??= { error: e };
      }
    }
    if (first !== null) throw first.error;
  };
  return {
    stop: () => (running ??= run()),
    pending: () =>
      steps.slice(next).map((s, i) => {
        const detail = i === 0 && running ? (s.pending?.() ?? []) : [];
        return detail.length ? `${s.name} (${detail.join(', ')})` : s.name;
      }),
  };
}
