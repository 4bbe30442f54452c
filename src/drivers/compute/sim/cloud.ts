// The simulated cloud: hypervisor hosts with power, nova-compute services, servers and aggregates, behaving the way
// Nova does where the recovery engine can tell the difference (evacuation needs the source service down, a
// rebuild takes time, a stopped server stays stopped after evacuation, an error server comes back active...).
// Time and randomness come from the Env, so on a VirtualEnv everything is deterministic.

import type { Env } from '../../../core/env.ts';
import type { ComputeService, EvacuationRecord, Resources, VmState } from '../../../core/ports/compute.ts';

export interface SimServer {
  id: string;
  name: string;
  host: string;
  vmState: VmState;
  taskState: string | null;
  powerState: number;
  metadata: Record<string, string>;
  locked: boolean;
  /** Its flavor; undefined: takes nothing (the scenarios without capacities). */
  resources?: Resources;
}

export interface SimHost {
  name: string;
  power: 'on' | 'off';
  /** Virtual time the host lost power (its service heartbeat stops then). */
  poweredOffAtMs: number | null;
  services: Map<string, ComputeService>;
  /** What may be allocated on it; undefined: unlimited (and the scheduler keeps its fewest-servers rule). */
  capacity?: Resources;
}

export interface SimAggregate {
  id: string;
  name: string;
  hosts: string[];
}

export interface SimLatencies {
  /** Every API call. */
  apiMs: number;
  /** The evacuate call itself (Nova answers the POST after this long). */
  evacuateCallMs: number;
  /** Rebuild on the new host: uniform in [min, max]. */
  rebuildMinMs: number;
  rebuildMaxMs: number;
  stopMs: number;
  startMs: number;
  /** Nova reports a service down this long after its host stopped heart-beating (service_down_time). */
  serviceDownMs: number;
}

export const DEFAULT_LATENCIES: SimLatencies = {
  apiMs: 50,
  evacuateCallMs: 500,
  rebuildMinMs: 20_000,
  rebuildMaxMs: 40_000,
  stopMs: 2_000,
  startMs: 3_000,
  serviceDownMs: 60_000,
};

export type SimOp =
  | 'hostExists'
  | 'listServersOnHost'
  | 'getServer'
  | 'observeServers'
  | 'stopServer'
  | 'startServer'
  | 'resetServerState'
  | 'lockServer'
  | 'unlockServer'
  | 'evacuateServer'
  | 'latestEvacuation'
  | 'getComputeService'
  | 'disableComputeService'
  | 'enableComputeService'
  | 'setComputeServiceForcedDown'
  | 'listAggregates'
  | 'addHostToAggregate'
  | 'hostCapacity';

/** An injected failure: calls matching `op` (or '*') and, when given, `target` throw `code` `times` times (or forever). */
export interface SimFault {
  op: SimOp | '*';
  target?: string;
  code: 'not_found' | 'conflict' | 'unavailable' | 'timeout' | 'bad_request' | 'unknown';
  message?: string;
  times?: number;
}

/**
 * How a server's rebuild ends: normally (Nova's rules), in error, or never (stuck in rebuilding); late-move is
 * Nova on a busy destination compute: the rebuild ends (active, no task state) while the server still shows on the
 * failed host, and the move is recorded LATE_MOVE_MS later. Nova accepts a second evacuate in that window.
 */
export type RebuildOutcome = 'normal' | 'error' | 'stuck' | 'late-move';
export const LATE_MOVE_MS = 120_000;
/** How a server reacts to stop/start: normally, or never reaching the state. */
export type PowerOutcome = 'normal' | 'stuck';

export type CloudEvent = (line: string) => void;

export class SimCloud {
  readonly hosts = new Map<string, SimHost>();
  readonly servers = new Map<string, SimServer>();
  readonly aggregates: SimAggregate[] = [];
  readonly faults: SimFault[] = [];
  readonly rebuildOutcome = new Map<string, RebuildOutcome>();
  readonly powerOutcome = new Map<string, PowerOutcome>();
  /** Evacuate calls accepted, per server. */
  readonly evacuations = new Map<string, number>();
  /** Evacuate calls accepted for a server that had already completed an evacuation in this run (must stay 0). */
  repeatedEvacuations = 0;
  /** Invariant breaches seen by the cloud (a VM running on a new host while the old one still has power). */
  readonly violations: string[] = [];
  /** When false, all API calls fail with 'unavailable' (Nova or Keystone down). */
  apiUp = true;
  latencies: SimLatencies;
  private readonly completedEvacuation = new Set<string>();
  /** Nova's evacuation migration records, newest per server. */
  readonly evacuationRecords = new Map<string, EvacuationRecord>();

  constructor(
    readonly env: Env,
    latencies: Partial<SimLatencies> = {},
    private readonly onEvent: CloudEvent = () => {},
  ) {
    this.latencies = { ...DEFAULT_LATENCIES, ...latencies };
  }

  event(line: string): void {
    this.onEvent(line);
  }

  addHost(name: string, opts: { power?: 'on' | 'off'; serviceEnabled?: boolean; capacity?: Resources } = {}): SimHost {
    const h: SimHost = { name, power: opts.power ?? 'on', poweredOffAtMs: null, services: new Map(), ...(opts.capacity ? { capacity: opts.capacity } : {}) };
    if (h.power === 'off') h.poweredOffAtMs = this.env.nowMs() - this.latencies.serviceDownMs;
    h.services.set('nova-compute', {
      id: `svc-${name}`,
      host: name,
      binary: 'nova-compute',
      status: opts.serviceEnabled === false ? 'disabled' : 'enabled',
      state: 'up',
      forcedDown: false,
      disabledReason: null,
    });
    this.hosts.set(name, h);
    return h;
  }

  addServer(s: Partial<SimServer> & { id: string; host: string }): SimServer {
    const vmState = s.vmState ?? 'active';
    const server: SimServer = {
      name: s.name ?? s.id,
      taskState: null,
      powerState: vmState === 'active' ? 1 : vmState === 'paused' ? 3 : 4,
      metadata: {},
      locked: false,
      ...s,
      vmState,
    };
    this.servers.set(server.id, server);
    return server;
  }

  addAggregate(name: string, hosts: string[]): SimAggregate {
    const a = { id: String(this.aggregates.length + 1), name, hosts: [...hosts] };
    this.aggregates.push(a);
    return a;
  }

  /** Cuts the host's power: its servers die with it (Nova still shows them active there) and its heartbeat stops. */
  powerOff(host: string): void {
    const h = this.hosts.get(host);
    if (!h || h.power === 'off') return;
    h.power = 'off';
    h.poweredOffAtMs = this.env.nowMs();
    for (const s of this.servers.values()) if (s.host === host) s.powerState = 0;
  }

  powerOn(host: string): void {
    const h = this.hosts.get(host);
    if (!h || h.power === 'on') return;
    h.power = 'on';
    h.poweredOffAtMs = null;
  }

  /** Nova's view of a service: "down" once heartbeats have been missing for serviceDownMs, or when forced down. */
  serviceView(host: string, binary: string): ComputeService | undefined {
    const h = this.hosts.get(host);
    const svc = h?.services.get(binary);
    if (!h || !svc) return undefined;
    const heartbeatLost = h.poweredOffAtMs !== null && this.env.nowMs() - h.poweredOffAtMs >= this.latencies.serviceDownMs;
    return { ...svc, state: svc.forcedDown || heartbeatLost ? 'down' : 'up' };
  }

  /** Throws when an injected fault matches; consumes one of its `times`. */
  checkFault(op: SimOp, target: string | undefined): SimFault | undefined {
    const i = this.faults.findIndex((f) => (f.op === '*' || f.op === op) && (f.target === undefined || f.target === target));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (f.times !== undefined && --f.times <= 0) this.faults.splice(i, 1);
    return f;
  }

  /** What the servers placed on `host` hold (Nova's allocations: a server being rebuilt there counts already). */
  used(host: string): Resources {
    const u = { vcpus: 0, ramMb: 0, diskGb: 0 };
    for (const s of this.servers.values()) {
      if (s.host !== host || !s.resources) continue;
      u.vcpus += s.resources.vcpus;
      u.ramMb += s.resources.ramMb;
      u.diskGb += s.resources.diskGb ?? 0;
    }
    return u;
  }

  /** Placement's check: does `server` fit on `host` beside what is there? A host without capacity takes anything. */
  fits(host: string, server: SimServer): boolean {
    const cap = this.hosts.get(host)?.capacity;
    if (!cap || !server.resources) return true;
    const u = this.used(host);
    const need = server.resources;
    const diskOk = cap.diskGb === null || (u.diskGb ?? 0) + (need.diskGb ?? 0) <= cap.diskGb;
    return u.vcpus + need.vcpus <= cap.vcpus && u.ramMb + need.ramMb <= cap.ramMb && diskOk;
  }

  /**
   * Nova's scheduler, simplified: an enabled, up host other than `exclude` where `server` fits. Without capacities,
   * the one with the fewest servers (then by name); with them, the one with the most free RAM (Nova's default
   * RAMWeigher), then by name.
   */
  schedule(exclude: string, server?: SimServer): string | undefined {
    const load = (h: string) => [...this.servers.values()].filter((s) => s.host === h).length;
    const up = [...this.hosts.values()]
      .filter((h) => h.name !== exclude && h.power === 'on')
      .filter((h) => {
        const v = this.serviceView(h.name, 'nova-compute');
        return v?.status === 'enabled' && v.state === 'up';
      })
      .filter((h) => !server || this.fits(h.name, server));
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    if (up.some((h) => h.capacity)) {
      const freeRam = (h: SimHost) => (h.capacity ? h.capacity.ramMb - this.used(h.name).ramMb : Number.MAX_SAFE_INTEGER);
      return up.sort((a, b) => freeRam(b) - freeRam(a) || byName(a, b))[0]?.name;
    }
    const candidates = up.map((h) => ({ name: h.name, load: load(h.name) })).sort((a, b) => a.load - b.load || byName(a, b));
    return candidates[0]?.name;
  }

  /** Starts a rebuild of `server` on `target`; completes after a random rebuild time (or never, or in error). */
  beginRebuild(server: SimServer, target: string): void {
    const source = server.host;
    const before = server.vmState;
    const n = (this.evacuations.get(server.id) ?? 0) + 1;
    this.evacuations.set(server.id, n);
    if (this.completedEvacuation.has(server.id)) this.repeatedEvacuations++;
    const previous = this.evacuationRecords.get(server.id);
    if (previous?.status === 'in_progress') this.violations.push(`${server.id} evacuated again while its evacuation to ${previous.destHost} was unfinished`);
    const record: EvacuationRecord = { status: 'in_progress', createdAt: this.env.now(), destHost: target };
    this.evacuationRecords.set(server.id, record);
    const outcome = this.rebuildOutcome.get(server.id) ?? 'normal';
    const lateMove = outcome === 'late-move';
    if (!lateMove) server.host = target;
    server.taskState = 'rebuilding';
    this.event(`rebuild ${server.id} ${source} -> ${target} started`);
    if (outcome === 'stuck') return;
    const { rebuildMinMs: lo, rebuildMaxMs: hi } = this.latencies;
    const ms = lo + Math.floor(this.env.random() * (hi - lo + 1));
    this.env.setTimer(() => {
      if (server.taskState !== 'rebuilding' || server.host !== (lateMove ? source : target)) return;
      server.taskState = null;
      if (outcome === 'error') {
        server.vmState = 'error';
        record.status = 'failed';
        this.event(`rebuild ${server.id} on ${target} failed`);
        return;
      }
      // Nova: an error instance comes back active; a stopped one stays stopped.
      server.vmState = before === 'stopped' ? 'stopped' : 'active';
      server.powerState = server.vmState === 'active' ? 1 : 4;
      const moved = () => {
        server.host = target;
        record.status = 'done';
        this.completedEvacuation.add(server.id);
        const src = this.hosts.get(source);
        if (server.vmState === 'active' && src?.power === 'on') {
          this.violations.push(`${server.id} active on ${target} while ${source} still has power`);
        }
      };
      if (!lateMove) {
        moved();
        this.event(`rebuild ${server.id} on ${target} done (${server.vmState})`);
        return;
      }
      this.event(`rebuild ${server.id} on ${target} done (${server.vmState}), still shown on ${source}`);
      this.env.setTimer(() => {
        moved();
        this.event(`rebuild ${server.id}: move to ${target} recorded`);
      }, LATE_MOVE_MS);
    }, ms);
  }
}
