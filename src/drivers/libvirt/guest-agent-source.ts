// The introspective monitor's GuestAgentSource on libvirt: lists running domains with a QEMU guest-agent channel
// and sends them guest-ping (virDomainQemuAgentCommand). Agent commands need a read-write connection.

import type { Logger } from '../../core/log.ts';
import type { AgentDomain, GuestAgentSource, PingResult } from '../../core/monitors/introspective/source.ts';
import { ErrorCode } from './constants.ts';
import { LibvirtError } from './errors.ts';
import { ResilientLibvirt } from './resilient.ts';
import { errorMessage } from '../../core/errors.ts';

/** Errors that say we could not ask the agent, not that it failed to answer: they do not count as failures. */
const NOT_THE_AGENTS_FAULT = new Set<number>([
  ErrorCode.NO_CONNECT,
  ErrorCode.INVALID_CONN,
  ErrorCode.RPC,
  ErrorCode.SYSTEM_ERROR,
  ErrorCode.NO_DOMAIN,
  ErrorCode.INVALID_DOMAIN,
  ErrorCode.OPERATION_INVALID, // domain is not running (any more): the instance monitor's business
  ErrorCode.OPERATION_DENIED, // read-only connection: a configuration error, logged, not a guest failure
  ErrorCode.NO_SUPPORT,
]);

/** The virtio channel name QEMU's guest agent listens on (what Nova and virt-install configure). */
export const GUEST_AGENT_CHANNEL = 'org.qemu.guest_agent.0';

/**
 * True when the domain XML has a guest-agent channel. We look for the channel's target name rather than
 * masakari's socket-path regex, which only matches Nova's file naming.
 */
export function hasGuestAgentChannel(xml: string): boolean {
  for (const m of xml.matchAll(/<channel\b[\s\S]*?<\/channel>/g)) {
    if (/<target\b[^>]*\bname=(['"])org\.qemu\.guest_agent\.0\1/.test(m[0])) return true;
  }
  return false;
}

export interface LibvirtGuestAgentSourceOptions {
  uri: string;
  keepalive?: { intervalSec: number; count: number } | null;
  reconnectDelayMs: number;
  log: Logger;
}

export class LibvirtGuestAgentSource implements GuestAgentSource {
  readonly conn: ResilientLibvirt;

  constructor(o: LibvirtGuestAgentSourceOptions) {
    this.conn = new ResilientLibvirt({ uri: o.uri, readOnly: false, keepalive: o.keepalive ?? null, reconnectDelayMs: o.reconnectDelayMs, log: o.log });
  }

  connected(): boolean {
    return this.conn.connection !== null;
  }

  start(): Promise<void> {
    return this.conn.start();
  }

  stop(): Promise<void> {
    return this.conn.stop();
  }

  async listAgentDomains(): Promise<AgentDomain[]> {
    const c = this.conn.connection;
    // Between reconnections: the introspective monitor logs it and asks again next round.
    if (!c) throw new LibvirtError('virConnectListAllDomains', ErrorCode.NO_CONNECT, 0, 'not connected to libvirt');
    const out: AgentDomain[] = [];
    for (const d of await c.listDomainsAsync('active')) {
      try {
        const runId = d.id();
        if (runId === null) continue;
        if (hasGuestAgentChannel(await d.xmlAsync())) out.push({ uuid: d.uuid(), name: d.name(), runId });
      } catch {
        // The domain stopped between the list and the question: not running, nothing to probe.
      } finally {
        d.free();
      }
    }
    return out;
  }

  async ping(uuid: string, timeoutSec: number): Promise<PingResult> {
    const c = this.conn.connection;
    if (!c) return { outcome: 'unknown', reason: 'not connected to libvirt' };
    let d;
    try {
      d = c.lookupByUUID(uuid);
    } catch (err) {
      return { outcome: 'unknown', reason: errorMessage(err) };
    }
    if (!d) return { outcome: 'unknown', reason: 'domain no longer exists' };
    try {
      await d.agentCommand('{"execute":"guest-ping"}', Math.max(1, Math.round(timeoutSec)));
      return { outcome: 'ok' };
    } catch (err) {
      const reason = errorMessage(err);
      return { outcome: err instanceof LibvirtError && NOT_THE_AGENTS_FAULT.has(err.libvirtCode) ? 'unknown' : 'failed', reason };
    } finally {
      d.free();
    }
  }
}
