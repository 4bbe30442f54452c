// Fencing of one host through its BMC: the policy shared by every kind of backend.
//   status:     one status query, retried.
//   power off:  status query (skip the command when already off), power command (retried; before a retry the state
//               is queried again, because a timed-out attempt may still have gone through), then status queries
//               every poll interval until the BMC reports the requested state or confirm_timeout_seconds passes.
// The result's `confirmed` is what the last status query said, so the engine only evacuates on a real "off".
// A command the BMC refused throws FenceError; a command accepted but not confirmed in time returns the last state
// with evidence saying so (the engine decides; it must not take "accepted" for "off").

import type { Env } from '../../core/env.ts';
import type { Logger } from '../../core/log.ts';
import type { FenceResult, PowerState } from '../../core/ports/fence.ts';
import type { FenceTiming } from '../../core/config/sections/fencing.ts';
import type { Attempt, PowerBackend, PowerTarget } from './backend.ts';
import { FenceError } from './errors.ts';
import { Redactor } from './redact.ts';
import { sleepOrAbort, withRetries } from './retry.ts';
import { resolvePassword, type SecretSource } from './secrets.ts';

export interface BmcFencerOptions {
  host: string;
  backend: PowerBackend;
  timing: FenceTiming;
  secret: SecretSource;
  env: Env;
  logger: Logger;
  /** Where password_env is looked up; default process.env. */
  processEnv?: Record<string, string | undefined>;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class BmcFencer {
  readonly host: string;
  readonly backend: PowerBackend;
  private readonly redactor = new Redactor();
  private readonly log: Logger;

  constructor(private readonly o: BmcFencerOptions) {
    this.host = o.host;
    this.backend = o.backend;
    this.redactor.add(o.secret.password);
    // The caller may already have named the component (pino would then print the key twice).
    const component = o.logger.bindings().component ? {} : { component: 'fence' };
    this.log = o.logger.child({ ...component, host: o.host, kind: o.backend.kind, bmc: o.backend.describe });
  }

  get describe(): string {
    return this.backend.describe;
  }

  /** The effective timing (host overrides over fencing.defaults), e.g. for `masakari config check`. */
  get timing(): FenceTiming {
    return { ...this.o.timing };
  }

  async status(signal?: AbortSignal): Promise<PowerState> {
    const at = await this.attempt(signal, 'status query');
    let n = 1;
    try {
      const { value } = await withRetries((a) => ((n = a), this.backend.status(at)), this.policy('status query', signal));
      this.log.debug({ power: value }, 'power status');
      return value;
    } catch (e) {
      throw this.fail('status query', n, e);
    }
  }

  powerOff(signal?: AbortSignal): Promise<FenceResult> {
    return this.power('off', signal);
  }

  powerOn(signal?: AbortSignal): Promise<FenceResult> {
    return this.power('on', signal);
  }

  private async power(target: PowerTarget, signal?: AbortSignal): Promise<FenceResult> {
    const what = `power ${target}`;
    const at = await this.attempt(signal, what);
    const b = this.backend;
    const steps: string[] = [];

    if (!b.checksBeforeActing) {
      let n = 1;
      let before: PowerState;
      try {
        before = (await withRetries((a) => ((n = a), b.status(at)), this.policy('status query', signal))).value;
      } catch (e) {
        throw this.fail(`${what} (status query before the command)`, n, e);
      }
      if (before === target) {
        const evidence = this.redactor.redact(`${b.describe}: status query shows ${target} already; no power command sent`);
        this.log.info({ confirmed: target, evidence }, `${what}: already ${target}`);
        return { confirmed: target, evidence };
      }
      steps.push(`status before: ${before}`);
    }

    this.log.info(`${what}: sending command`);
    let n = 1;
    let answer: string;
    try {
      answer = (
        await withRetries(
          async (a) => {
            n = a;
            if (a > 1 && !b.checksBeforeActing) {
              // The previous attempt may have reached the BMC before it timed out: do not send a second command
              // (some Redfish BMCs answer 409 to ForceOff on a host that is already off).
              const now = await b.status(at).catch(() => 'unknown' as const);
              if (now === target) return `a status query before retry ${a} showed ${target}`;
            }
            return b.setPower(target, at);
          },
          this.policy(what, signal),
        )
      ).value;
    } catch (e) {
      throw this.fail(what, n, e);
    }
    const sentAt = this.o.env.nowMs();
    steps.push(`${what} command accepted${n > 1 ? ` on attempt ${n}` : ''} (${answer})`);

    const c = await this.confirm(target, at, sentAt, signal);
    steps.push(c.text);
    const evidence = this.redactor.redact(`${b.describe}: ${steps.join('; ')}`);
    if (c.state === target) this.log.info({ confirmed: c.state, evidence }, `${what}: confirmed`);
    else this.log.warn({ confirmed: c.state, evidence }, `${what}: NOT confirmed`);
    return { confirmed: c.state, evidence };
  }

  /** Status queries until `target` shows or the confirm timeout passes; errors in between count as "unknown". */
  private async confirm(target: PowerTarget, at: Attempt, sentAt: number, signal?: AbortSignal): Promise<{ state: PowerState; text: string }> {
    const env = this.o.env;
    const deadline = sentAt + this.o.timing.confirm_timeout_seconds * 1000;
    const pollMs = this.o.timing.poll_interval_seconds * 1000;
    let queries = 0;
    let last: PowerState = 'unknown';
    let lastErr: string | null = null;
    for (;;) {
      queries++;
      try {
        last = await this.backend.status(at);
        lastErr = null;
      } catch (e) {
        if (e instanceof FenceError && e.code === 'aborted') throw this.fail(`power ${target} (confirmation)`, 1, e);
        last = 'unknown';
        lastErr = e instanceof Error ? e.message : String(e);
        this.log.debug({ err: this.redactor.redact(lastErr) }, 'status query while confirming failed');
      }
      const q = `${queries} ${queries === 1 ? 'query' : 'queries'}`;
      if (last === target) {
        return { state: last, text: `status query confirms ${target} ${secs(env.nowMs() - sentAt)} after the command (${q})` };
      }
      const left = deadline - env.nowMs();
      if (left <= 0) {
        const why = lastErr ? ` (last error: ${lastErr})` : '';
        return {
          state: last,
          text: `status did not show ${target} within ${this.o.timing.confirm_timeout_seconds} s: last status ${last}${why} (${q})`,
        };
      }
      try {
        await sleepOrAbort(env, Math.min(pollMs, left), signal);
      } catch (e) {
        throw this.fail(`power ${target} (confirmation)`, 1, e);
      }
    }
  }

  /** Resolves the password for this operation and registers it for redaction before anything can print it. */
  private async attempt(signal: AbortSignal | undefined, what: string): Promise<Attempt> {
    let password: string;
    try {
      password = await resolvePassword(this.o.secret, this.o.processEnv ?? process.env);
    } catch (e) {
      throw this.fail(what, 1, e);
    }
    this.redactor.add(password);
    return { password, timeoutMs: this.o.timing.timeout_seconds * 1000, signal };
  }

  private policy(what: string, signal?: AbortSignal) {
    return {
      retries: this.o.timing.retries,
      backoffMs: this.o.timing.retry_backoff_seconds * 1000,
      env: this.o.env,
      signal,
      onRetry: (e: unknown, attempt: number, delayMs: number) => {
        const code = e instanceof FenceError ? e.code : 'failed';
        const msg = this.redactor.redact(e instanceof Error ? e.message : String(e));
        this.log.warn({ code, attempt, retry_in_ms: delayMs, err: msg }, `${what}: attempt ${attempt} failed, retrying`);
      },
    };
  }

  /** The error callers see: stable code, host and BMC named, secrets removed, logged once. */
  private fail(what: string, attempts: number, e: unknown): FenceError {
    const code = e instanceof FenceError ? e.code : 'failed';
    const inner = e instanceof Error ? e.message : String(e);
    const msg = this.redactor.redact(
      `${what} of host ${this.host} via ${this.backend.describe} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${inner}`,
    );
    this.log.error({ code, err: msg }, `${what} failed`);
    return new FenceError(code, msg);
  }
}
