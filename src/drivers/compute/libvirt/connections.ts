// One libvirt connection per configured host, opened on first use and opened again when it broke. A host that did
// not answer is not asked again for `retryAfterMs`, so a dead peer costs one connect timeout per few seconds,
// not one per engine poll.

import type { Logger } from '../../../core/log.ts';
import { ComputeDriverError } from '../../../core/ports/compute.ts';
import { LibvirtConnection } from '../../libvirt/index.ts';
import { errorMessage } from '../../../core/errors.ts';

export interface ConnectionPoolOptions {
  /** host name -> libvirt URI */
  hosts: Record<string, string>;
  connectTimeoutMs: number;
  retryAfterMs: number;
  log: Logger;
  /** Remote connections get keepalive so a frozen daemon is noticed (seconds, probes). */
  keepalive?: { intervalSec: number; count: number };
}

interface Slot {
  conn: LibvirtConnection | null;
  opening: Promise<LibvirtConnection> | null;
  downUntil: number;
  lastError: string | null;
}

export class ConnectionPool {
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  constructor(private readonly o: ConnectionPoolOptions) {
    for (const h of Object.keys(o.hosts)) this.slots.set(h, { conn: null, opening: null, downUntil: 0, lastError: null });
  }

  get hostNames(): string[] {
    return [...this.slots.keys()];
  }

  has(host: string): boolean {
    return this.slots.has(host);
  }

  uri(host: string): string | undefined {
    return this.o.hosts[host];
  }

  /** The host's connection; throws ComputeDriverError('unavailable') when libvirt there cannot be reached. */
  async get(host: string): Promise<LibvirtConnection> {
    const slot = this.slots.get(host);
    if (!slot) throw new ComputeDriverError('not_found', `${host} is not a configured libvirt host (libvirt_compute.hosts)`);
    if (this.closed) throw new ComputeDriverError('unavailable', 'the libvirt compute driver is closed');
    const c = slot.conn;
    if (c && !c.closed && c.lost === null && c.isAlive()) return c;
    if (c) {
      slot.conn = null;
      c.close();
    }
    if (Date.now() < slot.downUntil) {
      throw new ComputeDriverError('unavailable', `libvirt on ${host} (${this.o.hosts[host]}) is unreachable: ${slot.lastError ?? 'unknown'}`);
    }
    slot.opening ??= this.open(host, slot).finally(() => (slot.opening = null));
    return slot.opening;
  }

  /** The connection, or null when the host is unreachable now. */
  async tryGet(host: string): Promise<LibvirtConnection | null> {
    try {
      return await this.get(host);
    } catch (e) {
      if (e instanceof ComputeDriverError && e.code === 'unavailable') return null;
      throw e;
    }
  }

  /** Forgets the host's connection and its "down" mark: the next call connects again. */
  reset(host: string): void {
    const slot = this.slots.get(host);
    if (!slot) return;
    slot.conn?.close();
    slot.conn = null;
    slot.downUntil = 0;
  }

  private async open(host: string, slot: Slot): Promise<LibvirtConnection> {
    const uri = this.o.hosts[host]!;
    let timer: NodeJS.Timeout | undefined;
    const attempt = LibvirtConnection.openAsync(uri);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.o.connectTimeoutMs} ms`)), this.o.connectTimeoutMs);
    });
    try {
      const conn = await Promise.race([attempt, timeout]);
      if (this.closed) {
        conn.close();
        throw new ComputeDriverError('unavailable', 'the libvirt compute driver is closed');
      }
      if (this.o.keepalive && !uri.startsWith('test:')) {
        try {
          conn.setKeepAlive(this.o.keepalive.intervalSec, this.o.keepalive.count);
        } catch {
          // Drivers without keepalive (local ones) simply do not get it.
        }
      }
      slot.conn = conn;
      slot.lastError = null;
      slot.downUntil = 0;
      return conn;
    } catch (e) {
      // A late success of the timed-out attempt must not leak a connection.
      attempt.then((c) => (slot.conn === c ? undefined : c.close())).catch(() => undefined);
      const msg = errorMessage(e);
      if (slot.lastError !== msg) this.o.log.warn({ host, uri, err: msg }, 'libvirt host unreachable');
      slot.lastError = msg;
      slot.downUntil = Date.now() + this.o.retryAfterMs;
      if (e instanceof ComputeDriverError) throw e;
      throw new ComputeDriverError('unavailable', `libvirt on ${host} (${uri}) is unreachable: ${msg}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every connection; resolves once libvirt has released them (attempts still opening are not waited for). */
  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const s of this.slots.values()) {
      if (s.conn) closing.push(s.conn.closeAsync());
      s.conn = null;
    }
    await Promise.all(closing);
  }
}
