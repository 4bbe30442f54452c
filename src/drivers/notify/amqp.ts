// The messagingv2 sink: publishes Masakari's versioned notifications to RabbitMQ the way oslo.messaging's rabbit
// driver does for Masakari (impl_rabbit.py notify_send): a topic exchange named by the control exchange
// (`masakari`, not durable, not auto-deleted: amqp_durable_queues=False), and a queue named after the routing key,
// bound to it with that key, declared before the first publish so that notifications wait for a consumer that has
// not started yet. Bodies are JSON (content type application/json, as kombu sends them).
//
// It never blocks or fails the producer: send() appends to a bounded in-memory buffer and returns. A publisher loop
// hands the buffer to the broker on a confirm channel; a message leaves the buffer only once the broker confirmed
// it, so a connection lost mid-way resends instead of losing (at-least-once). While the broker is unreachable the
// buffer fills; when it is full the OLDEST message is dropped, counted (deliveryCounters) and logged (once per
// outage, then with the running count). Reconnects try the transport_url's hosts in turn, with exponential backoff.

import { backoffDelay } from '../../core/delivery/backoff.ts';
import type { Logger } from '../../core/log.ts';
import { deliveryCounters, type NotificationSink } from '../../core/observe/notifier.ts';
import type { TransportUrl } from '../../core/observe/transport-url.ts';
import { errorMessage } from '../../core/errors.ts';
import type { ChannelModel, ConfirmChannel } from 'amqplib';

type AmqpConnection = ChannelModel;
type AmqpConfirmChannel = ConfirmChannel;

export interface AmqpSinkOptions {
  url: TransportUrl;
  exchange: string;
  bufferSize: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  log: Logger;
  /** Most unconfirmed messages on the wire at once. */
  window?: number;
}

interface Item {
  key: string;
  body: string;
}

export class AmqpNotificationSink implements NotificationSink {
  private readonly buffer: Item[] = [];
  private readonly inflight = new Set<Item>();
  private conn: AmqpConnection | undefined;
  private channel: AmqpConfirmChannel | undefined;
  private readonly declared = new Set<string>();
  private failures = 0;
  private nextHost = 0;
  private closed = false;
  private connecting = false;
  private timer: NodeJS.Timeout | undefined;
  private dropsThisOutage = 0;
  private readonly log: Logger;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: AmqpSinkOptions) {
    this.log = opts.log.child({ component: 'amqp-notifier' });
    void this.connect();
  }

  send(key: string, body: string): void {
    if (this.closed) return;
    if (this.buffer.length >= this.opts.bufferSize) {
      this.buffer.shift();
      deliveryCounters.dropped();
      this.dropsThisOutage++;
      if (this.dropsThisOutage === 1 || this.dropsThisOutage % 1000 === 0) {
        this.log.warn(
          { dropped: this.dropsThisOutage, buffer_size: this.opts.bufferSize },
          'versioned notification buffer full (broker unreachable): dropping the oldest notifications',
        );
      }
    }
    this.buffer.push({ key, body });
    deliveryCounters.buffered(this.buffer.length + this.inflight.size);
    this.pump();
  }

  /** Resolves when nothing is buffered or in flight (tests; close() uses it with a deadline). */
  drained(): Promise<void> {
    if (this.buffer.length === 0 && this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(deadlineMs = 2000): Promise<void> {
    if (this.conn) await Promise.race([this.drained(), new Promise((r) => setTimeout(r, deadlineMs).unref())]);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const conn = this.conn;
    this.conn = undefined;
    this.channel = undefined;
    deliveryCounters.connected(false);
    if (this.buffer.length + this.inflight.size > 0) {
      this.log.warn({ lost: this.buffer.length + this.inflight.size }, 'stopping with versioned notifications the broker has not confirmed');
    }
    await conn?.close().catch(() => undefined);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    this.failures++;
    const delay = backoffDelay(this.failures, { initialMs: this.opts.reconnectInitialMs, maxMs: this.opts.reconnectMaxMs }, Math.random);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
    this.timer.unref();
  }

  private async connect(): Promise<void> {
    if (this.closed || this.connecting || this.conn) return;
    this.connecting = true;
    const { hosts, vhost } = this.opts.url;
    const target = hosts[this.nextHost % hosts.length]!;
    this.nextHost++;
    const where = `${target.host}:${target.port}`;
    try {
      // Loaded when first needed: only controllers with driver messagingv2 use it.
      const amqp = await import('amqplib');
      const conn = await amqp.connect(
        { protocol: 'amqp', hostname: target.host, port: target.port, username: target.user, password: target.password, vhost, heartbeat: 30 },
        { timeout: 10_000 },
      );
      conn.on('error', (e: Error) => this.log.warn({ broker: where, err: errorMessage(e) }, 'broker connection error'));
      conn.on('close', () => this.lost(conn, where));
      const ch = await conn.createConfirmChannel();
      ch.on('error', (e: Error) => this.log.warn({ broker: where, err: errorMessage(e) }, 'broker channel error'));
      ch.on('close', () => {
        // A channel closed by the broker (e.g. a queue declared differently) takes the connection down with it, so
        // the whole thing is set up again.
        if (this.channel === ch) void conn.close().catch(() => undefined);
      });
      await ch.assertExchange(this.opts.exchange, 'topic', { durable: false, autoDelete: false });
      if (this.closed) {
        await conn.close().catch(() => undefined);
        return;
      }
      this.conn = conn;
      this.channel = ch;
      this.declared.clear();
      deliveryCounters.connected(true);
      this.log.info(
        { broker: where, exchange: this.opts.exchange, ...(this.dropsThisOutage ? { dropped_while_down: this.dropsThisOutage } : {}) },
        'connected to the message broker for versioned notifications',
      );
      this.failures = 0;
      this.dropsThisOutage = 0;
      this.pump();
    } catch (e) {
      if (this.failures === 0 || this.failures % 10 === 0) {
        this.log.warn({ broker: where, err: errorMessage(e), buffered: this.buffer.length }, 'cannot reach the message broker; notifications are buffered');
      }
      this.scheduleReconnect();
    } finally {
      this.connecting = false;
    }
  }

  private lost(conn: AmqpConnection, where: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.channel = undefined;
    deliveryCounters.connected(false);
    // Unconfirmed messages go back to the front, in their order: they are sent again after the reconnect.
    const back = [...this.inflight];
    this.inflight.clear();
    this.buffer.unshift(...back);
    this.trimBuffer();
    if (!this.closed) this.log.warn({ broker: where, buffered: this.buffer.length }, 'lost the message broker connection; reconnecting');
    this.scheduleReconnect();
  }

  private trimBuffer(): void {
    const excess = this.buffer.length - this.opts.bufferSize;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      deliveryCounters.dropped(excess);
      this.dropsThisOutage += excess;
    }
    deliveryCounters.buffered(this.buffer.length + this.inflight.size);
  }

  /** The routing key's queue, declared (once per connection) before its first publish, as oslo.messaging does. */
  private async declare(ch: AmqpConfirmChannel, key: string): Promise<void> {
    if (this.declared.has(key)) return;
    await ch.assertQueue(key, { durable: false, autoDelete: false });
    await ch.bindQueue(key, this.opts.exchange, key);
    this.declared.add(key);
  }

  private pumping = false;

  private pump(): void {
    if (this.pumping || !this.channel) return;
    this.pumping = true;
    void this.pumpLoop().finally(() => {
      this.pumping = false;
    });
  }

  private async pumpLoop(): Promise<void> {
    const window = this.opts.window ?? 256;
    while (this.channel && this.buffer.length > 0 && this.inflight.size < window) {
      const ch = this.channel;
      const item = this.buffer[0]!;
      try {
        await this.declare(ch, item.key);
      } catch (e) {
        this.log.warn({ queue: item.key, err: errorMessage(e) }, 'declaring the notification queue failed');
        return; // the channel is gone; the reconnect pumps again
      }
      if (this.channel !== ch || this.buffer[0] !== item) continue;
      this.buffer.shift();
      this.inflight.add(item);
      ch.publish(this.opts.exchange, item.key, Buffer.from(item.body), { contentType: 'application/json', contentEncoding: 'utf-8' }, (err) => {
        if (!this.inflight.delete(item)) return; // already put back by lost()
        if (err) {
          this.buffer.unshift(item);
        } else {
          deliveryCounters.sent();
        }
        deliveryCounters.buffered(this.buffer.length + this.inflight.size);
        if (this.buffer.length === 0 && this.inflight.size === 0) {
          const w = this.idleWaiters;
          this.idleWaiters = [];
          for (const f of w) f();
        } else this.pump();
      });
    }
  }
}
