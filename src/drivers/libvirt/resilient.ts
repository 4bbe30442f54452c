// A libvirt connection that stays up: it reconnects after libvirtd dies, restarts or freezes, and registers every
// subscription again on the new connection (libvirt forgets them with the old one). Used by the monitors.
//
// Detection: the close callback fires within milliseconds when the daemon's socket closes (kill, restart), and
// keepalive turns a frozen daemon into a close (reason KEEPALIVE) after interval × (count + 1) seconds.

import type { Logger } from '../../core/log.ts';
import { LibvirtConnection, type Subscription } from './connection.ts';
import type { DomainEventKind, EventOf } from './events.ts';
import { errorMessage } from '../../core/errors.ts';

export interface ResilientOptions {
  uri: string;
  readOnly?: boolean;
  /** null: no keepalive (local drivers such as test:///default have none). */
  keepalive?: { intervalSec: number; count: number } | null;
  reconnectDelayMs: number;
  log: Logger;
}

interface Wanted {
  kind: DomainEventKind;
  handler: (ev: never) => void;
  live: Subscription | null;
}

export class ResilientLibvirt {
  private conn: LibvirtConnection | null = null;
  private readonly wanted = new Set<Wanted>();
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private connectedWaiters: Array<() => void> = [];
  private readonly closing = new Set<Promise<void>>();
  private connecting: Promise<void> | null = null;
  private readonly connectedListeners = new Set<(conn: LibvirtConnection, reconnect: boolean) => void>();
  /** How many times a connection was (re)established; tests and status read it. */
  connects = 0;
  /** Since when the link is in its present state (connected or not), and why it was lost (the heartbeat shows it). */
  private stateSince = new Date();
  private lostWhy: string | null = 'not connected yet';

  constructor(private readonly o: ResilientOptions) {}

  /** Makes the first connection attempt; on failure keeps retrying in the background. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.connectTracked();
  }

  /** Resolves once libvirt has let go of every connection this object opened (a shutdown waits for that). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.wanted) w.live = null;
    if (this.conn) this.closeLater(this.conn);
    this.conn = null;
    // An attempt under way closes what it opens when it sees `stopped` (into `closing`).
    await this.connecting;
    while (this.closing.size) await Promise.all([...this.closing]);
  }

  /** Closes a connection, remembered until libvirt has released it so that stop() can wait for it. */
  private closeLater(conn: LibvirtConnection, nextTurn = false): void {
    const close = () => conn.closeAsync().catch(() => undefined);
    const p = nextTurn ? new Promise<void>((resolve) => setImmediate(() => void close().then(resolve))) : close();
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
  }

  /** The current connection, or null while disconnected. Do not keep it: it is replaced after a reconnect. */
  get connection(): LibvirtConnection | null {
    return this.conn;
  }

  /** Connected or not, since when, and why not. */
  state(): { connected: boolean; since: Date; reason: string | null } {
    return { connected: this.conn !== null, since: this.stateSince, reason: this.conn ? null : this.lostWhy };
  }

  /** Resolves when connected (at once if connected now). */
  whenConnected(): Promise<void> {
    if (this.conn) return Promise.resolve();
    return new Promise((r) => this.connectedWaiters.push(r));
  }

  /**
   * Called after every successful (re)connection, once the subscriptions are registered again (so nothing that
   * happens from then on is missed): the place to catch up on what happened while disconnected.
   */
  onConnected(listener: (conn: LibvirtConnection, reconnect: boolean) => void): Subscription {
    this.connectedListeners.add(listener);
    return { cancel: () => this.connectedListeners.delete(listener) };
  }

  /** Subscribes now (when connected) and again after every reconnection, until cancelled. */
  subscribe<K extends DomainEventKind>(kind: K, handler: (ev: EventOf<K>) => void): Subscription {
    const w: Wanted = { kind, handler: handler, live: null };
    this.wanted.add(w);
    if (this.conn) this.register(this.conn, w);
    return {
      cancel: () => {
        this.wanted.delete(w);
        w.live?.cancel();
        w.live = null;
      },
    };
  }

  private register(conn: LibvirtConnection, w: Wanted): void {
    const handler = w.handler as (ev: EventOf<DomainEventKind>) => void;
    w.live = conn.onDomainEvent(w.kind, (ev) => {
      // A throwing handler is a bug, but it must not take the monitor (or the process) down with it.
      try {
        handler(ev);
      } catch (err) {
        this.o.log.error({ err, kind: ev.kind, instance_uuid: ev.domain.uuid }, 'libvirt event handler failed');
      }
    });
  }

  private connectTracked(): Promise<void> {
    const p = this.connect().finally(() => {
      if (this.connecting === p) this.connecting = null;
    });
    this.connecting = p;
    return p;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.attempts++;
    let conn: LibvirtConnection;
    try {
      conn = await LibvirtConnection.openAsync(this.o.uri, { readOnly: this.o.readOnly });
    } catch (err) {
      // First failure and then every 20th at warn level: a long outage should not flood the log.
      const level = this.attempts === 1 || this.attempts % 20 === 0 ? 'warn' : 'debug';
      this.o.log[level]({ uri: this.o.uri, attempt: this.attempts, err: errorMessage(err) }, 'cannot connect to libvirt; retrying');
      this.lostWhy = `cannot connect: ${errorMessage(err)}`;
      this.schedule();
      return;
    }
    if (this.stopped) {
      this.closeLater(conn);
      return;
    }
    try {
      if (this.o.keepalive) conn.setKeepAlive(this.o.keepalive.intervalSec, this.o.keepalive.count);
      for (const w of this.wanted) this.register(conn, w);
    } catch (err) {
      this.o.log.warn({ uri: this.o.uri, err: errorMessage(err) }, 'libvirt connection unusable; reconnecting');
      this.lostWhy = `connection unusable: ${errorMessage(err)}`;
      for (const w of this.wanted) w.live = null;
      this.closeLater(conn);
      this.schedule();
      return;
    }
    conn.onClose((reason) => this.lost(conn, reason));
    this.conn = conn;
    this.stateSince = new Date();
    this.lostWhy = null;
    this.connects++;
    // The daemon may have gone between the open and the listener above: then no close callback will come again.
    if (conn.lost) {
      this.lost(conn, conn.lost);
      return;
    }
    this.o.log.info(
      { uri: this.o.uri, attempts: this.attempts, subscriptions: this.wanted.size, reconnect: this.connects > 1 },
      this.connects > 1 ? 'reconnected to libvirt; event subscriptions registered again' : 'connected to libvirt',
    );
    this.attempts = 0;
    for (const l of [...this.connectedListeners]) {
      try {
        l(conn, this.connects > 1);
      } catch (err) {
        this.o.log.warn({ uri: this.o.uri, err: errorMessage(err) }, 'after-connect step failed');
      }
    }
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const r of waiters) r();
  }

  private lost(conn: LibvirtConnection, reason: string): void {
    if (this.conn !== conn) return;
    this.o.log.warn({ uri: this.o.uri, reason }, 'libvirt connection lost; events are not seen until it is back');
    this.conn = null;
    this.stateSince = new Date();
    this.lostWhy = `connection lost: ${reason}`;
    for (const w of this.wanted) w.live = null;
    // Closing inside libvirt's close callback is allowed, but doing it on the next turn keeps the callback short.
    this.closeLater(conn, true);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connectTracked();
    }, this.o.reconnectDelayMs);
  }
}
