// One life of a simulated controller process. kill() is `kill -9`: from that instant the process does nothing more.
// Its engine's pending calls never get an answer, its timers never fire and it issues no new calls, while what it
// had already sent (a store write that committed, an evacuate Nova accepted) stays done. The engine code is not
// told anything: it is simply frozen, like a killed process.

import type { Env, Timer } from '../core/env.ts';

const never = <T>() => new Promise<T>(() => {});
const isPromise = (v: unknown): v is Promise<unknown> => v instanceof Promise;

export class Incarnation {
  private dead = false;

  get alive(): boolean {
    return !this.dead;
  }

  kill(): void {
    this.dead = true;
  }

  /**
   * Wraps an object whose methods return promises (Store, ComputeDriver, FenceGate). `after` runs after a call
   * completed and before its result is delivered (the simulator uses it to crash at a task boundary).
   */
  wrap<T extends object>(target: T, after?: (method: string, args: unknown[], result: unknown) => void): T {
    return new Proxy(target, {
      get: (obj, prop, receiver) => {
        const v = Reflect.get(obj, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (this.dead) return never();
          const out = (v as (...a: unknown[]) => unknown).apply(obj, args);
          if (!isPromise(out)) return out;
          return out.then(
            (r) => {
              if (!this.dead) after?.(String(prop), args, r);
              return this.dead ? never() : r;
            },
            (e: unknown) => {
              if (this.dead) return never();
              throw e;
            },
          );
        };
      },
    });
  }

  /** The Env this life sees: no timer fires and no sleep ends after kill(). */
  env(base: Env): Env {
    return {
      now: () => base.now(),
      nowMs: () => base.nowMs(),
      random: () => base.random(),
      uuid: () => base.uuid(),
      setTimer: (fn, ms): Timer =>
        base.setTimer(() => {
          if (!this.dead) fn();
        }, ms),
      sleep: (ms, signal) => {
        if (this.dead) return never();
        return base.sleep(ms, signal).then(
          () => (this.dead ? never<void>() : undefined),
          (e: unknown) => {
            if (this.dead) return never<void>();
            throw e;
          },
        );
      },
    };
  }
}
