// A virtual clock implementing Env, for the deterministic simulator (test/sim, `masakari sim`) and the benchmark.
// Time only moves when the driver of the simulation calls run()/advance(): it fires timers in (time, creation order)
// and lets every promise chain settle in between, so the real engine code runs unchanged, faster than real time and
// with the same interleaving on every run. Randomness is a seeded PRNG, so "random" latencies repeat too.

import { AbortError, type Env, type Timer } from './env.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** mulberry32: small, fast, good enough for jitter; the same seed always gives the same sequence. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets every queued microtask and immediate run (no real I/O happens in a simulation, so this settles everything). */
export const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};

export class VirtualEnv implements Env {
  private ms: number;
  private seq = 0;
  private uuidSeq = 0;
  private queue: Pending[] = [];
  private readonly rand: () => number;

  constructor(startMs = Date.UTC(2026, 0, 1), seed = 1) {
    this.ms = startMs;
    this.rand = prng(seed);
  }

  now(): Date {
    return new Date(this.ms);
  }
  nowMs(): number {
    return this.ms;
  }
  random(): number {
    return this.rand();
  }
  /** Deterministic, well-formed v4-shaped uuids: readable in golden logs. */
  uuid(): string {
    const n = (++this.uuidSeq).toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${n}`;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const p: Pending = { at: this.ms + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.insert(p);
    return { cancel: () => void (p.cancelled = true) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError());
      const onAbort = () => {
        timer.cancel();
        reject(new AbortError());
      };
      const timer = this.setTimer(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Time of the next live timer, or undefined when nothing is scheduled. */
  nextAt(): number | undefined {
    while (this.queue.length && this.queue[0]!.cancelled) this.queue.shift();
    return this.queue[0]?.at;
  }

  /**
   * Fires timers in order until the clock would pass `untilMs` (or nothing is left), settling promise chains after
   * each one. Returns the number of timers fired. `maxSteps` guards against a busy loop that never ends.
   */
  async run(untilMs = Number.POSITIVE_INFINITY, maxSteps = 50_000_000): Promise<number> {
    let fired = 0;
    await settle();
    for (;;) {
      const at = this.nextAt();
      if (at === undefined || at > untilMs) break;
      const p = this.queue.shift()!;
      this.ms = Math.max(this.ms, p.at);
      p.fn();
      await settle();
      if (++fired >= maxSteps) throw new Error(`virtual clock: more than ${maxSteps} timers fired (livelock?)`);
    }
    if (untilMs !== Number.POSITIVE_INFINITY && this.ms < untilMs) this.ms = untilMs;
    return fired;
  }

  /** Moves the clock forward by `ms`, firing what falls due. */
  advance(ms: number): Promise<number> {
    return this.run(this.ms + ms);
  }

  // Binary insertion keeps the queue sorted by (at, seq): stable, deterministic order for equal times.
  private insert(p: Pending): void {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid]!;
      if (q.at < p.at || (q.at === p.at && q.seq < p.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, p);
  }
}
