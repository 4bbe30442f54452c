// Fencing readiness: is each host's fencer able to fence it right now? Checked every fencing.readiness_interval
// seconds (and on demand) with ONE power status query per host: never a power action. The answer is part of the
// host's protection (docs/protection.md):
//   ok                   the BMC answered with a power state: reachable, credentials accepted
//   unreachable          nothing answered in time (or the fencer could not be run: see detail)
//   auth_failed          the BMC refused the credentials
//   unknown_power_state  the BMC answered, but with no power state we understand
// A wrong password is not retried in a storm: the fencer itself never retries an authentication failure, the
// periodic check backs off (interval x 2, x 4, ... up to x 8) while it persists, and on-demand checks of such a host
// are answered from the last result for MIN_RECHECK_MS. Repeated bad logins can lock a BMC account.

import type { Env, Timer } from '../env.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { FenceError, type PowerState } from '../ports/fence.ts';

export type ReadinessState = 'ok' | 'unreachable' | 'auth_failed' | 'unknown_power_state';

export interface ReadinessResult {
  state: ReadinessState;
  checkedAt: Date;
  /** The power state seen (ok), or why not. Never holds a secret (the fencer redacts). */
  detail: string | null;
}

/** What readiness needs of the controller's fencer (src/drivers/fence/registry.ts's ConfiguredFencer). */
export interface ReadinessFencer {
  hosts(): string[];
  status(host: string, signal?: AbortSignal): Promise<PowerState>;
}

export interface FencingReadinessOptions {
  fencer: ReadinessFencer;
  /** 0: no periodic checks, on demand only. */
  intervalMs: number;
  env: Env;
  log: Logger;
  /** Called after every check whose state differs from the previous one (the protection service re-evaluates). */
  onChange?: (host: string, result: ReadinessResult) => void;
}

/** An on-demand check of a host whose credentials were refused is not sent again sooner than this. */
export const MIN_RECHECK_MS = 10_000;
const MAX_BACKOFF_FACTOR = 8;

export function readinessOf(e: unknown): { state: ReadinessState; detail: string } {
  const detail = errorMessage(e);
  if (e instanceof FenceError) {
    if (e.code === 'auth') return { state: 'auth_failed', detail };
    if (e.code === 'protocol') return { state: 'unknown_power_state', detail };
  }
  return { state: 'unreachable', detail };
}

export class FencingReadiness {
  private readonly results = new Map<string, ReadinessResult>();
  private readonly inFlight = new Map<string, Promise<ReadinessResult>>();
  /** Consecutive authentication failures per host (drives the back-off). */
  private readonly authFailures = new Map<string, number>();
  /** Status queries sent per host (tests check there is no storm). */
  private readonly queries = new Map<string, number>();
  private timer: Timer | null = null;
  private running = false;
  private round: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly log: Logger;

  constructor(private readonly o: FencingReadinessOptions) {
    this.log = o.log.child({ component: 'fencing-readiness' });
  }

  hosts(): string[] {
    return this.o.fencer.hosts();
  }

  has(host: string): boolean {
    return this.o.fencer.hosts().includes(host);
  }

  result(host: string): ReadinessResult | undefined {
    return this.results.get(host);
  }

  queriesSent(host: string): number {
    return this.queries.get(host) ?? 0;
  }

  start(): void {
    if (this.running || this.o.intervalMs <= 0 || this.hosts().length === 0) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    this.abort.abort();
    await this.round;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.o.env.setTimer(() => {
      this.round = this.periodicRound().finally(() => {
        this.round = null;
        // Wake often enough for the soonest host due; each host keeps its own pace (back-off) in periodicRound.
        this.schedule(this.o.intervalMs);
      });
    }, ms);
  }

  /** One periodic pass: every host due (a host with refused credentials is due less and less often). */
  private async periodicRound(): Promise<void> {
    const now = this.o.env.nowMs();
    await Promise.all(
      this.hosts().map(async (host) => {
        const last = this.results.get(host);
        const fails = this.authFailures.get(host) ?? 0;
        if (last && fails > 0) {
          const factor = Math.min(2 ** (fails - 1), MAX_BACKOFF_FACTOR);
          // A little slack so that a host due "now" is not pushed one whole interval later by timer jitter.
          if (now - last.checkedAt.getTime() < factor * this.o.intervalMs - 50) return;
        }
        await this.checkHost(host);
      }),
    );
  }

  /**
   * On demand: checks the host (or every host with a fencer) now and answers with the results. Concurrent checks of
   * one host share one query; a host whose credentials were refused less than MIN_RECHECK_MS ago is not asked again.
   */
  async check(host?: string): Promise<Map<string, ReadinessResult>> {
    const hosts = host === undefined ? this.hosts() : [host];
    const out = new Map<string, ReadinessResult>();
    await Promise.all(
      hosts.map(async (h) => {
        const last = this.results.get(h);
        if (last?.state === 'auth_failed' && this.o.env.nowMs() - last.checkedAt.getTime() < MIN_RECHECK_MS) {
          out.set(h, last);
          return;
        }
        out.set(h, await this.checkHost(h));
      }),
    );
    return out;
  }

  private checkHost(host: string): Promise<ReadinessResult> {
    const running = this.inFlight.get(host);
    if (running) return running;
    const p = this.query(host).finally(() => this.inFlight.delete(host));
    this.inFlight.set(host, p);
    return p;
  }

  private async query(host: string): Promise<ReadinessResult> {
    this.queries.set(host, this.queriesSent(host) + 1);
    let result: ReadinessResult;
    try {
      const power = await this.o.fencer.status(host, this.abort.signal);
      result =
        power === 'unknown'
          ? { state: 'unknown_power_state', checkedAt: this.o.env.now(), detail: 'the BMC answered without a power state we understand' }
          : { state: 'ok', checkedAt: this.o.env.now(), detail: `power ${power}` };
    } catch (e) {
      const r = readinessOf(e);
      result = { state: r.state, checkedAt: this.o.env.now(), detail: r.detail };
    }
    this.authFailures.set(host, result.state === 'auth_failed' ? (this.authFailures.get(host) ?? 0) + 1 : 0);
    const before = this.results.get(host);
    this.results.set(host, result);
    if (before?.state !== result.state) {
      const fields = { host, state: result.state, was: before?.state ?? null, detail: result.detail };
      if (result.state === 'ok') this.log.info(fields, `fencer of ${host} ready`);
      else this.log.warn(fields, `fencer of ${host} not ready: ${result.state}`);
      this.o.onChange?.(host, result);
    }
    return result;
  }
}
