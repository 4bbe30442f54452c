// The compute agent's heartbeat loop: every interval it collects each monitor's health and the outbox backlog and
// sends them to the controller (src/core/ports/heartbeat.ts). A heartbeat is never queued: when one cannot be
// delivered the next one, a moment later, carries fresher news. Failures are logged when they start and when they
// end, not once per beat, so an unreachable controller does not flood the agent's log.

import type { Env, Timer } from '../env.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Monitor } from '../monitors/types.ts';
import type { AgentHeartbeat } from '../ports/heartbeat.ts';
import type { NotificationTransport } from '../ports/notification-transport.ts';

export interface HeartbeatSenderOptions {
  host: string;
  version: string;
  intervalMs: number;
  transport: NotificationTransport;
  monitors: () => readonly Monitor[];
  outbox: { backlog(): AgentHeartbeat['outbox'] };
  env: Env;
  log: Logger;
}

export class HeartbeatSender {
  private timer: Timer | null = null;
  private running = false;
  private inFlight: Promise<void> | null = null;
  private readonly abort = new AbortController();
  /** Why the last heartbeat failed, while failing (null once one got through). */
  private failing: string | null = null;
  /** Heartbeats the controller accepted (tests and logs). */
  sent = 0;
  private readonly log: Logger;

  constructor(private readonly o: HeartbeatSenderOptions) {
    this.log = o.log.child({ component: 'heartbeat' });
  }

  /** What the next heartbeat says (public for tests and `masakari monitors`). */
  collect(): AgentHeartbeat {
    const monitors: Record<string, Record<string, unknown>> = {};
    for (const m of this.o.monitors()) {
      try {
        monitors[m.name] = m.health?.() ?? {};
      } catch (e) {
        monitors[m.name] = { error: errorMessage(e) };
      }
    }
    return {
      host: this.o.host,
      version: this.o.version,
      interval_seconds: this.o.intervalMs / 1000,
      sent_at: this.o.env.now().toISOString(),
      monitors,
      outbox: this.o.outbox.backlog(),
    };
  }

  start(): void {
    if (this.running || !this.o.transport.heartbeat) return;
    this.running = true;
    this.log.info({ interval_seconds: this.o.intervalMs / 1000, transport: this.o.transport.name }, 'sending heartbeats to the controller');
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    this.abort.abort();
    await this.inFlight;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.o.env.setTimer(() => {
      this.inFlight = this.beat().finally(() => {
        this.inFlight = null;
        this.schedule(this.o.intervalMs);
      });
    }, ms);
  }

  /** One heartbeat; never throws. */
  async beat(): Promise<void> {
    const transport = this.o.transport;
    if (!transport.heartbeat) return;
    let why: string | null;
    try {
      const outcome = await transport.heartbeat(this.collect(), this.abort.signal);
      why = outcome.kind === 'accepted' ? null : `${outcome.kind}: ${outcome.message}`;
    } catch (e) {
      if (this.abort.signal.aborted) return;
      why = errorMessage(e);
    }
    if (why === null) {
      this.sent++;
      if (this.failing !== null) this.log.info({ was: this.failing }, 'heartbeats reach the controller again');
      else if (this.sent === 1) this.log.info('first heartbeat accepted by the controller');
      this.failing = null;
      return;
    }
    if (this.failing === null) this.log.warn({ reason: why }, 'heartbeat not accepted by the controller; the host shows as unprotected there until one is');
    this.failing = why;
  }
}
