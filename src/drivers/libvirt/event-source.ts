// The instance monitor's DomainEventSource on libvirt: all six event kinds masakari-instancemonitor registers,
// on a read-only connection that survives libvirtd restarts.

import type { DomainEvent, DomainEventSource } from '../../core/monitors/instance/source.ts';
import type { Logger } from '../../core/log.ts';
import type { Subscription } from './connection.ts';
import { ALL_EVENT_KINDS } from './events.ts';
import { ResilientLibvirt } from './resilient.ts';

export interface LibvirtEventSourceOptions {
  uri: string;
  keepalive?: { intervalSec: number; count: number } | null;
  reconnectDelayMs: number;
  log: Logger;
}

export class LibvirtDomainEventSource implements DomainEventSource {
  readonly conn: ResilientLibvirt;
  private subs: Subscription[] = [];

  constructor(o: LibvirtEventSourceOptions) {
    this.conn = new ResilientLibvirt({ uri: o.uri, readOnly: true, keepalive: o.keepalive ?? null, reconnectDelayMs: o.reconnectDelayMs, log: o.log });
  }

  async start(onEvent: (ev: DomainEvent) => void): Promise<void> {
    for (const s of this.subs) s.cancel();
    this.subs = ALL_EVENT_KINDS.map((kind) => this.conn.subscribe(kind, onEvent));
    await this.conn.start();
  }

  async stop(): Promise<void> {
    for (const s of this.subs) s.cancel();
    this.subs = [];
    await this.conn.stop();
  }
}
