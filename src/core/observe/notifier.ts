// Sends Masakari's versioned notifications for the bus's events (versioned.ts says what is sent). The driver
// follows oslo_messaging_notifications.driver: noop sends nothing, log writes each to our log, messagingv2 hands it
// to a NotificationSink (the AMQP driver, src/drivers/notify/amqp.ts) once per topic, with routing key
// `<topic>.<priority>`, priority lower-cased as oslo.messaging does. Formatting and sending never throw into the
// bus; the sink itself only buffers (it never blocks the producer).

import { hostname } from 'node:os';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { EventBus } from './bus.ts';
import type { RequestContextData } from './events.ts';
import { envelope, toVersionedNotification } from './versioned.ts';

/** Where messagingv2 notifications go: a bounded buffer in front of the broker. send() must return at once. */
export interface NotificationSink {
  send(routingKey: string, body: string): void;
  /** Tries to hand over what is buffered (bounded by the role's shutdown), then disconnects. */
  close(): Promise<void>;
}

/**
 * The counters of versioned notification delivery in this process: the metrics helper exports them (one bus, one
 * sink per process, so process-wide numbers).
 */
export interface NotificationDeliveryStats {
  /** Confirmed by the broker. */
  sent: number;
  /** Lost: the buffer was full while the broker was unreachable (the oldest one goes). */
  dropped: number;
  /** Waiting in memory for the broker. */
  buffered: number;
  /** Whether a broker connection is up. */
  connected: boolean;
}

const stats: NotificationDeliveryStats = { sent: 0, dropped: 0, buffered: 0, connected: false };

/** A snapshot of this process's delivery counters. */
export function notificationDeliveryStats(): NotificationDeliveryStats {
  return { ...stats };
}

/** Drivers update the counters through this (core owns them, so the metrics code needs no driver import). */
export const deliveryCounters = {
  sent(n = 1): void {
    stats.sent += n;
  },
  dropped(n = 1): void {
    stats.dropped += n;
  },
  buffered(n: number): void {
    stats.buffered = n;
  },
  connected(up: boolean): void {
    stats.connected = up;
  },
};

export interface Notifier {
  stop(): Promise<void>;
}

export function startNotifier(bus: EventBus, config: Config, log: Logger, sink?: NotificationSink): Notifier {
  const c = config.oslo_messaging_notifications;
  if (c.driver === 'noop') return { stop: async () => undefined };
  const nlog = log.child({ component: 'notifier' });
  const host = hostname();
  const unsubscribe = bus.subscribe((e) => {
    const n = toVersionedNotification(e, host);
    if (!n) return;
    if (c.driver === 'log' || !sink) {
      nlog.info({ notification: n }, `versioned notification ${n.event_type}`);
      return;
    }
    const body = envelope(n, e.payload.context as RequestContextData | undefined, e.at);
    for (const topic of c.topics) sink.send(`${topic}.${n.priority.toLowerCase()}`, body);
  });
  return {
    stop: async () => {
      unsubscribe();
      await sink?.close();
    },
  };
}
