// Every source of time and randomness the engine and monitors use goes through Env, so the same code
// runs on the wall clock in production and on a virtual clock in the deterministic simulator
// (test/sim). Never call Date.now(), setTimeout or Math.random directly in src/core/engine.

import { randomUUID } from 'node:crypto';
import { AppError } from './errors.ts';

export interface Timer {
  cancel(): void;
}

export interface Env {
  now(): Date;
  nowMs(): number;
  /** Resolves after `ms`; rejects with an AbortError when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  setTimer(fn: () => void, ms: number): Timer;
  /** Uniform in [0, 1). */
  random(): number;
  uuid(): string;
}

export class AbortError extends AppError {
  readonly code = 'ABORTED';

  constructor() {
    super('aborted');
  }
}

export const realEnv: Env = {
  now: () => new Date(),
  nowMs: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError());
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(new AbortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  random: () => Math.random(),
  uuid: () => randomUUID(),
};
