import { z } from 'zod';
import { parseTransportUrl, TransportUrlError } from '../../observe/transport-url.ts';

/**
 * Masakari's versioned notifications on the message bus (its [oslo_messaging_notifications] options; docs/observability.md).
 * noop (the default, as in Masakari): nothing is sent. log: each notification is written to our log. messagingv2:
 * published to RabbitMQ in oslo.messaging's v2 envelope, exchange `masakari`, routing key `<topic>.<priority>`.
 */
export const osloMessagingNotificationsSection = z.strictObject({
  driver: z.enum(['messagingv2', 'log', 'noop']).default('noop'),
  /** rabbit://USER:PASS@HOST:PORT[,USER:PASS@HOST:PORT...]/VHOST; required by messagingv2. */
  transport_url: z
    .string()
    .nullable()
    .default(null)
    .superRefine((v, ctx) => {
      if (v === null) return;
      try {
        parseTransportUrl(v);
      } catch (e) {
        if (!(e instanceof TransportUrlError)) throw e;
        ctx.addIssue({ code: 'custom', message: e.message });
      }
    }),
  /** One copy of each notification per topic (routing key `<topic>.<priority>`). */
  topics: z.array(z.string().min(1)).min(1).default(['versioned_notifications']),
  /** oslo.messaging's control_exchange as Masakari sets it. */
  exchange: z.string().min(1).default('masakari'),
  /** Notifications kept in memory while the broker is unreachable; beyond it the oldest are dropped (and counted). */
  buffer_size: z.number().int().min(1).default(10000),
  /** Reconnect delay: starts here, doubles per failed attempt up to reconnect_max_seconds. */
  reconnect_initial_seconds: z.number().positive().default(1),
  reconnect_max_seconds: z.number().positive().default(30),
});

/** The event stream GET /v1/x-masakari/events (docs/observability.md). */
export const eventsSection = z.strictObject({
  /** Events kept in the store for Last-Event-ID resume (the newest N; older ones are deleted). */
  history_size: z.number().int().min(1).default(10000),
  /** A comment line on idle streams this often, so proxies do not close them. */
  heartbeat_seconds: z.number().positive().default(15),
  /** How often a stream looks in the store for events other controllers wrote. */
  poll_seconds: z.number().positive().default(1),
});
