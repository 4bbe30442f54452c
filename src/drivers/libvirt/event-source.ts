// The instance monitor's DomainEventSource on libvirt: all six event kinds masakari-instancemonitor registers,
// on a read-only connection that survives libvirtd restarts.
//
// Beyond masakari: events that happen while libvirtd is down are lost for every client (libvirtd notices a QEMU
// that died meanwhile when it starts again, before any client can be registered). So the source remembers which
// domains were running; after a reconnection, a domain that was running and is now SHUT OFF with reason CRASHED
// (what libvirt records for a killed QEMU) is reported as the STOPPED/FAILED event nobody could see.
// And when QEMU dies while a freshly started libvirtd is still reattaching to it, libvirt (9.0, measured) sends only
// a CONTROL_ERROR event and leaves the domain SHUT OFF with reason DAEMON, no STOPPED event at all. So after a
// CONTROL_ERROR the source watches that domain's state for a few seconds and reports STOPPED/FAILED if it ends up
// shut off that way without a STOPPED event of its own. The CONTROL_ERROR itself is reported as masakari does.

import type { DomainEvent, DomainEventSource, DomainRef } from '../../core/monitors/instance/source.ts';
import type { Logger } from '../../core/log.ts';
import type { LibvirtConnection, Subscription } from './connection.ts';
import { DomainState, LifecycleEvent, StoppedDetail } from './constants.ts';
import { ALL_EVENT_KINDS } from './events.ts';
import { ResilientLibvirt } from './resilient.ts';
import { errorMessage } from '../../core/errors.ts';

/** virDomainShutoffReason values meaning "QEMU went away, nobody asked for it". */
const SHUTOFF_CRASHED = 3;
const SHUTOFF_FAILED = 6;
const SHUTOFF_DAEMON = 8;
/** After a CONTROL_ERROR: how often and how long to look at the domain's state. */
const CONTROL_ERROR_CHECK_MS = 500;
const CONTROL_ERROR_CHECKS = 10;

export interface LibvirtEventSourceOptions {
  uri: string;
  keepalive?: { intervalSec: number; count: number } | null;
  reconnectDelayMs: number;
  log: Logger;
}

export class LibvirtDomainEventSource implements DomainEventSource {
  readonly conn: ResilientLibvirt;
  private subs: Subscription[] = [];
  /** Domains running as far as we know (uuid → ref), kept current by lifecycle events. */
  private readonly running = new Map<string, DomainRef>();
  private readonly log: Logger;
  /** uuid → how many STOPPED events were seen (a follow-up check compares counts). */
  private readonly stoppedEvents = new Map<string, number>();
  private readonly followUps = new Set<NodeJS.Timeout>();

  constructor(o: LibvirtEventSourceOptions) {
    this.log = o.log;
    this.conn = new ResilientLibvirt({ uri: o.uri, readOnly: true, keepalive: o.keepalive ?? null, reconnectDelayMs: o.reconnectDelayMs, log: o.log });
  }

  async start(onEvent: (ev: DomainEvent) => void): Promise<void> {
    for (const s of this.subs) s.cancel();
    const deliver = (ev: DomainEvent) => {
      this.track(ev);
      onEvent(ev);
      if (ev.kind === 'control-error') this.followControlError(ev.domain, deliver);
    };
    this.subs = ALL_EVENT_KINDS.map((kind) => this.conn.subscribe(kind, deliver));
    this.subs.push(this.conn.onConnected((c, reconnect) => this.catchUp(c, reconnect, deliver)));
    await this.conn.start();
  }

  async stop(): Promise<void> {
    for (const t of this.followUps) clearTimeout(t);
    this.followUps.clear();
    // The connection first: its close deregisters every subscription off the main thread, where a frozen libvirtd
    // cannot hold the stop (cancelling each one first would ask the daemon on this thread; see connection.ts).
    await this.conn.stop();
    for (const s of this.subs) s.cancel();
    this.subs = [];
    this.running.clear();
  }

  /** UUIDs of the domains this source believes are running (status output, tests). */
  knownRunning(): string[] {
    return [...this.running.keys()];
  }

  private followControlError(ref: DomainRef, deliver: (ev: DomainEvent) => void): void {
    const stoppedBefore = this.stoppedEvents.get(ref.uuid) ?? 0;
    let checks = 0;
    const check = () => {
      if ((this.stoppedEvents.get(ref.uuid) ?? 0) > stoppedBefore) return; // libvirt sent its own STOPPED event
      const c = this.conn.connection;
      if (!c) return; // disconnected: the reconnection catch-up looks at it
      let state: { state: number; reason: number } | null = null;
      try {
        const d = c.lookupByUUID(ref.uuid);
        if (!d) return;
        try {
          state = d.state();
        } finally {
          d.free();
        }
      } catch (err) {
        this.log.debug({ instance_uuid: ref.uuid, err: errorMessage(err) }, 'state check after CONTROL_ERROR failed');
      }
      if (state?.state === DomainState.SHUTOFF) {
        if ([SHUTOFF_CRASHED, SHUTOFF_FAILED, SHUTOFF_DAEMON].includes(state.reason)) {
          this.log.warn(
            { instance_uuid: ref.uuid, domain: ref.name, reason: state.reason },
            'domain died with only a CONTROL_ERROR event: reporting STOPPED/FAILED',
          );
          deliver({ kind: 'lifecycle', domain: ref, event: LifecycleEvent.STOPPED, detail: StoppedDetail.FAILED });
        }
        return;
      }
      if (++checks < CONTROL_ERROR_CHECKS) schedule();
    };
    const schedule = () => {
      const t = setTimeout(() => {
        this.followUps.delete(t);
        check();
      }, CONTROL_ERROR_CHECK_MS);
      this.followUps.add(t);
    };
    schedule();
  }

  private track(ev: DomainEvent): void {
    if (ev.kind !== 'lifecycle') return;
    if (ev.event === LifecycleEvent.STOPPED) this.stoppedEvents.set(ev.domain.uuid, (this.stoppedEvents.get(ev.domain.uuid) ?? 0) + 1);
    if (ev.event === LifecycleEvent.STARTED || ev.event === LifecycleEvent.RESUMED) this.running.set(ev.domain.uuid, ev.domain);
    else if (ev.event === LifecycleEvent.STOPPED || ev.event === LifecycleEvent.UNDEFINED) this.running.delete(ev.domain.uuid);
  }

  private catchUp(c: LibvirtConnection, reconnect: boolean, deliver: (ev: DomainEvent) => void): void {
    const before = new Map(this.running);
    const now = c.listDomainSummaries('active');
    this.running.clear();
    for (const d of now) this.running.set(d.uuid, { uuid: d.uuid, name: d.name });
    if (!reconnect) return;
    for (const [uuid, ref] of before) {
      if (this.running.has(uuid)) continue;
      const d = c.lookupByUUID(uuid);
      if (!d) continue; // undefined meanwhile: nothing to recover
      try {
        const st = d.state();
        if (st.state === DomainState.SHUTOFF && st.reason === SHUTOFF_CRASHED) {
          this.log.warn({ instance_uuid: uuid, domain: ref.name }, 'domain crashed while libvirtd was unreachable: reporting the missed STOPPED/FAILED');
          deliver({ kind: 'lifecycle', domain: ref, event: LifecycleEvent.STOPPED, detail: StoppedDetail.FAILED });
        } else {
          this.log.info(
            { instance_uuid: uuid, domain: ref.name, state: st.stateName, reason: st.reason },
            'domain stopped while libvirtd was unreachable (not a crash)',
          );
        }
      } finally {
        d.free();
      }
    }
  }
}
