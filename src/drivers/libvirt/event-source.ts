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
// The same watch follows every domain that was running before a reconnection and is still listed active at the
// catch-up: on a busy host libvirtd may still be reattaching to a QEMU that died while it was down, and then marks
// it shut off later, again without any event (seen under CPU load: test/monitors/instance-e2e.test.ts).
// One sweep a second lists the active domains (one call, whatever the number watched) and looks only at those
// no longer active; a watch ends at a STOPPED event, a clean shutdown, or after SILENT_DEATH_WATCH_MS.

import type { DomainEvent, DomainEventSource, DomainRef, SourceConnectionState } from '../../core/monitors/instance/source.ts';
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
/** Shut off without anyone asking: QEMU crashed, failed to start, or libvirtd gave up on it while reattaching. */
const DIED_UNASKED = [SHUTOFF_CRASHED, SHUTOFF_FAILED, SHUTOFF_DAEMON];
/** After a CONTROL_ERROR or a reconnection: how often and how long to look for a death libvirt did not announce. */
const SILENT_DEATH_SWEEP_MS = 1000;
const SILENT_DEATH_WATCH_MS = 60_000;

interface SilentDeathWatch {
  ref: DomainRef;
  /** STOPPED events seen for the domain when the watch began: one more means libvirt announced it after all. */
  stoppedBefore: number;
  untilMs: number;
  why: 'control-error' | 'reconnect';
}

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
  private readonly watches = new Map<string, SilentDeathWatch>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private deliver: ((ev: DomainEvent) => void) | null = null;

  connected(): boolean {
    return this.conn.connection !== null;
  }

  constructor(o: LibvirtEventSourceOptions) {
    this.log = o.log;
    this.conn = new ResilientLibvirt({ uri: o.uri, readOnly: true, keepalive: o.keepalive ?? null, reconnectDelayMs: o.reconnectDelayMs, log: o.log });
  }

  async start(onEvent: (ev: DomainEvent) => void): Promise<void> {
    for (const s of this.subs) s.cancel();
    const deliver = (ev: DomainEvent) => {
      this.track(ev);
      onEvent(ev);
      if (ev.kind === 'control-error') this.watchForSilentDeath(ev.domain, 'control-error');
    };
    this.deliver = deliver;
    this.subs = ALL_EVENT_KINDS.map((kind) => this.conn.subscribe(kind, deliver));
    this.subs.push(this.conn.onConnected((c, reconnect) => this.catchUp(c, reconnect, deliver)));
    await this.conn.start();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.watches.clear();
    // The connection first: its close deregisters every subscription off the main thread, where a frozen libvirtd
    // cannot hold the stop (cancelling each one first would ask the daemon on this thread; see connection.ts).
    await this.conn.stop();
    for (const s of this.subs) s.cancel();
    this.subs = [];
    this.running.clear();
  }

  /** The link to libvirtd (the instance monitor's health in the agent's heartbeat). */
  connectionState(): SourceConnectionState {
    return this.conn.state();
  }

  /** UUIDs of the domains this source believes are running (status output, tests). */
  knownRunning(): string[] {
    return [...this.running.keys()];
  }

  /** Watches a domain for a death that libvirt records without a STOPPED event (see the header). */
  private watchForSilentDeath(ref: DomainRef, why: SilentDeathWatch['why']): void {
    const stoppedBefore = this.stoppedEvents.get(ref.uuid) ?? 0;
    this.watches.set(ref.uuid, { ref, stoppedBefore, untilMs: Date.now() + SILENT_DEATH_WATCH_MS, why });
    this.sweepTimer ??= setTimeout(() => this.sweep(), SILENT_DEATH_SWEEP_MS);
  }

  private sweep(): void {
    this.sweepTimer = null;
    void this.sweepOnce().finally(() => {
      // Not after stop(): it cleared the watches.
      if (this.watches.size && !this.sweepTimer) this.sweepTimer = setTimeout(() => this.sweep(), SILENT_DEATH_SWEEP_MS);
    });
  }

  /**
   * One look at the watched domains. Every call runs on a worker thread: a watch is live right after a reconnection,
   * exactly when libvirtd may freeze again, and a synchronous call to a frozen daemon would stall the whole process.
   */
  private async sweepOnce(): Promise<void> {
    const c = this.conn.connection;
    // Disconnected: keep the watches (the next reconnection's catch-up looks at every domain again).
    if (!c) return;
    try {
      const domains = await c.listDomainsAsync('active');
      let active: Set<string>;
      try {
        active = new Set(domains.map((d) => d.uuid()));
      } finally {
        for (const d of domains) d.free();
      }
      for (const [uuid, w] of [...this.watches]) {
        if ((this.stoppedEvents.get(uuid) ?? 0) > w.stoppedBefore)
          this.watches.delete(uuid); // libvirt announced it
        else if (!active.has(uuid)) await this.checkStopped(c, w);
        else if (Date.now() > w.untilMs) this.watches.delete(uuid); // still running: it survived
      }
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'silent-death sweep failed; trying again');
    }
  }

  /** A watched domain no longer active: report it when libvirt says it died (crashed, failed, daemon). */
  private async checkStopped(c: LibvirtConnection, w: SilentDeathWatch): Promise<void> {
    const d = await c.lookupByUUIDAsync(w.ref.uuid);
    if (!d) {
      this.watches.delete(w.ref.uuid); // undefined meanwhile: nothing to recover
      return;
    }
    let state: { state: number; reason: number };
    try {
      state = await d.stateAsync();
    } finally {
      d.free();
    }
    if (!this.watches.has(w.ref.uuid) || (this.stoppedEvents.get(w.ref.uuid) ?? 0) > w.stoppedBefore) return; // settled meanwhile
    if (state.state !== DomainState.SHUTOFF) return; // in between (e.g. being started again): look next time
    this.watches.delete(w.ref.uuid);
    if (!DIED_UNASKED.includes(state.reason)) return;
    this.log.warn(
      { instance_uuid: w.ref.uuid, domain: w.ref.name, reason: state.reason },
      w.why === 'control-error'
        ? 'domain died with only a CONTROL_ERROR event: reporting STOPPED/FAILED'
        : 'domain died while libvirtd was reattaching to it, without an event: reporting STOPPED/FAILED',
    );
    this.deliver?.({ kind: 'lifecycle', domain: w.ref, event: LifecycleEvent.STOPPED, detail: StoppedDetail.FAILED });
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
      if (this.running.has(uuid)) {
        this.watchForSilentDeath(ref, 'reconnect');
        continue;
      }
      const d = c.lookupByUUID(uuid);
      if (!d) continue; // undefined meanwhile: nothing to recover
      try {
        const st = d.state();
        if (st.state === DomainState.SHUTOFF && DIED_UNASKED.includes(st.reason)) {
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
