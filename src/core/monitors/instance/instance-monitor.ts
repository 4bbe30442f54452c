// The instance monitor: turns hypervisor domain events into VM notifications, masakari-instancemonitor's way.
// It only decides and hands drafts to the sink; watching libvirt (and reconnecting) is the source's job, durable
// delivery is the sink's.

import os from 'node:os';
import { realEnv, type Env } from '../../env.ts';
import type { Logger } from '../../log.ts';
import { monitorTimestamp, type NotificationDraft, type NotificationSink } from '../../ports/notify.ts';
import type { Monitor } from '../types.ts';
import { describeEvent, vmEventNames } from './event-filter.ts';
import type { DomainEvent, DomainEventSource } from './source.ts';
import { NO_COMPUTE_METRICS, type ComputeMetrics } from '../../observe/metric-set.ts';

export interface InstanceMonitorOptions {
  source: DomainEventSource;
  sink: NotificationSink;
  log: Logger;
  /** Reported as the notification's hostname; default os.hostname() (masakari: CONF.hostname or gethostname). */
  hostname?: string | null;
  env?: Env;
  metrics?: ComputeMetrics;
}

export class InstanceMonitor implements Monitor {
  readonly name = 'instance';
  private readonly hostname: string;
  private readonly env: Env;
  private running = false;
  /** Submissions not yet settled, so stop() can wait for them. */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly o: InstanceMonitorOptions) {
    this.hostname = o.hostname || os.hostname();
    this.env = o.env ?? realEnv;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.o.log.info({ hostname: this.hostname }, 'instance monitor starting');
    await this.o.source.start((ev) => this.onEvent(ev));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.o.source.stop();
    await Promise.allSettled([...this.pending]);
    this.o.log.info('instance monitor stopped');
  }

  /** libvirt: {connected, since, reason} (the heartbeat shows it; a lost link makes the host unprotected). */
  health(): Record<string, unknown> {
    const c = this.o.source.connectionState?.();
    return {
      libvirt: c ? { connected: c.connected && this.running, since: c.since.toISOString(), reason: c.reason } : null,
    };
  }

  /** Public for the simulator: what the monitor does with one event. */
  reportMetrics(): void {
    const up = this.o.source.connected?.();
    if (up !== undefined) (this.o.metrics ?? NO_COMPUTE_METRICS).libvirtConnected.set(up ? 1 : 0, { monitor: this.name });
  }

  onEvent(ev: DomainEvent): void {
    (this.o.metrics ?? NO_COMPUTE_METRICS).monitorEvents.inc({ monitor: this.name, kind: ev.kind });
    const names = vmEventNames(ev);
    const fields = { instance_uuid: ev.domain.uuid, domain: ev.domain.name, libvirt_event: describeEvent(ev) };
    if (!names) {
      this.o.log.debug(fields, 'libvirt event not reported (not in masakari-instancemonitor filter)');
      return;
    }
    const draft: NotificationDraft = {
      type: 'VM',
      hostname: this.hostname,
      generated_time: monitorTimestamp(this.env.now()),
      payload: { event: names.event, instance_uuid: ev.domain.uuid, vir_domain_event: names.vir_domain_event },
    };
    this.o.log.info({ ...fields, event: names.event, vir_domain_event: names.vir_domain_event }, 'libvirt event: sending VM notification');
    const p = this.o.sink
      .submit(draft)
      .catch((err: unknown) => {
        // The sink is the durable outbox: failing here means the disk refused the write. Nothing better to do than
        // say so loudly; the event itself cannot be replayed by libvirt.
        this.o.log.error({ ...fields, err }, 'could not queue VM notification');
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}
