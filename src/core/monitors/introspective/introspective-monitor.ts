// The introspective instance monitor: pings the QEMU guest agent of every running domain that has one, and sends
// {"event":"QEMU_GUEST_AGENT_ERROR","vir_domain_event":"STOPPED_FAILED"} once per failure episode (journal.ts).
// It catches guests that hang while QEMU itself runs fine, which the event-based instance monitor cannot see.

import os from 'node:os';
import { realEnv, type Env, type Timer } from '../../env.ts';
import type { Logger } from '../../log.ts';
import { monitorTimestamp, type NotificationSink } from '../../ports/notify.ts';
import type { Monitor } from '../types.ts';
import { AgentJournal } from './journal.ts';
import type { GuestAgentSource } from './source.ts';
import { errorMessage } from '../../errors.ts';
import { NO_COMPUTE_METRICS, type ComputeMetrics } from '../../observe/metric-set.ts';

export interface IntrospectiveMonitorOptions {
  source: GuestAgentSource;
  sink: NotificationSink;
  log: Logger;
  /** Seconds between rounds (masakari guest_monitoring_interval, default 10). */
  intervalSec: number;
  /** Seconds a ping may take (guest_monitoring_timeout, default 2). */
  timeoutSec: number;
  /** Consecutive failures that make an episode (guest_monitoring_failure_threshold, default 3). */
  failureThreshold: number;
  hostname?: string | null;
  env?: Env;
  metrics?: ComputeMetrics;
}

export class IntrospectiveMonitor implements Monitor {
  readonly name = 'introspective';
  private readonly journals = new Map<string, AgentJournal>();
  private readonly hostname: string;
  private readonly env: Env;
  private timer: Timer | null = null;
  private running = false;
  private round: Promise<void> | null = null;
  /** Completed rounds (tests and status read it). */
  rounds = 0;

  constructor(private readonly o: IntrospectiveMonitorOptions) {
    this.hostname = o.hostname || os.hostname();
    this.env = o.env ?? realEnv;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.o.source.start();
    this.o.log.info({ interval: this.o.intervalSec, timeout: this.o.timeoutSec, threshold: this.o.failureThreshold }, 'introspective monitor starting');
    this.schedule(0);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    await this.round;
    await this.o.source.stop();
    this.o.log.info('introspective monitor stopped');
  }

  /** The guests the monitor pings: phase (discovery, healthy, failing, reported) and consecutive failures. */
  health(): Record<string, unknown> {
    return {
      rounds: this.rounds,
      guests: [...this.journals.entries()].map(([uuid, j]) => ({ instance_uuid: uuid, phase: j.phase, failures: j.failures })),
    };
  }

  /** The journal of a domain (tests, status). */
  journal(uuid: string): AgentJournal | undefined {
    return this.journals.get(uuid);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.env.setTimer(() => {
      this.round = this.runRound().finally(() => {
        this.round = null;
        this.rounds++;
        this.schedule(this.o.intervalSec * 1000);
      });
    }, ms);
  }

  /** One round over all agent domains. Public for the simulator and tests. */
  async runRound(): Promise<void> {
    let domains;
    try {
      domains = await this.o.source.listAgentDomains();
    } catch (err) {
      this.o.log.warn({ err: errorMessage(err) }, 'cannot list domains for guest-agent checks; next round will retry');
      return;
    }
    const seen = new Set<string>();
    for (const d of domains) {
      if (!this.running) return;
      seen.add(d.uuid);
      let j = this.journals.get(d.uuid);
      if (!j || j.runId !== d.runId) {
        j = new AgentJournal(d.runId);
        this.journals.set(d.uuid, j);
      }
      const res = await this.o.source.ping(d.uuid, this.o.timeoutSec);
      if (res.outcome === 'unknown') {
        this.o.log.debug({ instance_uuid: d.uuid, domain: d.name, reason: res.reason }, 'guest-ping could not be sent; not counted');
        continue;
      }
      const ok = res.outcome === 'ok';
      const before = j.phase;
      const report = j.record(ok, this.o.failureThreshold);
      const fields = { instance_uuid: d.uuid, domain: d.name, phase: j.phase, failures: j.failures };
      if (res.outcome === 'failed') this.o.log.debug({ ...fields, reason: res.reason }, 'guest agent did not answer guest-ping');
      // Said once per domain run: from here on its failures count (operators and the end-to-end tests wait for it).
      if (ok && before === 'discovery') this.o.log.info(fields, 'guest agent answered: watching it');
      if (ok && (before === 'reported' || before === 'failing')) this.o.log.info(fields, 'guest agent answers again');
      if (report) this.notify(d.uuid, d.name, res.outcome === 'failed' ? res.reason : '');
    }
    // Domains that stopped or vanished: forget them; a later start begins in discovery.
    for (const uuid of this.journals.keys()) if (!seen.has(uuid)) this.journals.delete(uuid);
  }

  reportMetrics(): void {
    const up = this.o.source.connected?.();
    if (up !== undefined) (this.o.metrics ?? NO_COMPUTE_METRICS).libvirtConnected.set(up ? 1 : 0, { monitor: this.name });
  }

  private notify(uuid: string, name: string, reason: string): void {
    (this.o.metrics ?? NO_COMPUTE_METRICS).monitorEvents.inc({ monitor: this.name, kind: 'guest_agent_failure' });
    this.o.log.warn(
      { instance_uuid: uuid, domain: name, reason, threshold: this.o.failureThreshold },
      'guest agent stopped answering: sending QEMU_GUEST_AGENT_ERROR',
    );
    this.o.sink
      .submit({
        type: 'VM',
        hostname: this.hostname,
        generated_time: monitorTimestamp(this.env.now()),
        payload: { event: 'QEMU_GUEST_AGENT_ERROR', instance_uuid: uuid, vir_domain_event: 'STOPPED_FAILED' },
      })
      .catch((err: unknown) => this.o.log.error({ instance_uuid: uuid, err }, 'could not queue QEMU_GUEST_AGENT_ERROR notification'));
  }
}
