// The in-process event bus: one per process, created by the role wiring. Producers (the API's resource handlers,
// the engine, the protection checks, the compute agent) publish what happened; consumers (metrics, the versioned
// notifications on the message bus, the event stream, the dashboard) subscribe. Publishing never blocks and never
// throws into the producer: a failing consumer is logged and the others still run, so observability can never
// fail an API request or a recovery.

import type { Logger } from '../log.ts';

/** What happened, named like Masakari's versioned notifications where one exists (`segment.create.end`,
 * `notification.process.start`), otherwise in our own dotted names (`recovery.task.end`, `protection.change`). */
export interface BusEvent {
  readonly type: string;
  /** When it happened (the producer's clock). */
  readonly at: Date;
  /** Plain JSON data; consumers must not mutate it. */
  readonly payload: Readonly<Record<string, unknown>>;
}

export type BusListener = (event: BusEvent) => void;

export class EventBus {
  private readonly listeners = new Set<BusListener>();

  constructor(private readonly log?: Pick<Logger, 'warn'>) {}

  publish(type: string, payload: Record<string, unknown>, at: Date = new Date()): void {
    const event: BusEvent = { type, at, payload };
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (e) {
        this.log?.warn({ err: e, event: type }, 'an event bus consumer failed; the event goes on to the others');
      }
    }
  }

  /** Adds a listener; the function returned removes it. Listeners run synchronously and must not block. */
  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
