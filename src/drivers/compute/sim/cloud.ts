// The simulated cloud: hypervisor hosts with power, nova-compute services, servers and aggregates, behaving the way
// Nova does where the recovery engine can tell the difference (evacuation needs the source service down, a
// rebuild takes time, a stopped server stays stopped after evacuation, an error server comes back active...).
// Time and randomness come from the Env, so on a VirtualEnv everything is deterministic.

import type { Env } from '../../../core/env.ts';
import type { ComputeService, EvacuationRecord, VmState } from '../../../core/ports/compute.ts';

export interface SimServer {
  id: string;
  name: string;
  host: string;
  vmState: VmState;
  taskState: string | null;
  powerState: number;
  metadata: Record<string, string>;
  locked: boolean;
}

export interface SimHost {
  name: string;
  power: 'on' | 'off';
  /** Virtual time the host lost power (its service heartbeat stops then). */
  poweredOffAtMs: number | null;
  services: Map<string, ComputeService>;
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
  | 'addHostToAggregate';

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

  addHost(name: string, opts: { power?: 'on' | 'off'; serviceEnabled?: boolean } = {}): SimHost {
    const h: SimHost = { name, power: opts.power ?? 'on', poweredOffAtMs: null, services: new Map() };
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

  /** Nova's scheduler, simplified: an enabled, up host other than `exclude`, with the fewest servers (then by name). */
  schedule(exclude: string): string | undefined {
    const load = (h: string) => [...this.servers.values()].filter((s) => s.host === h).length;
    const candidates = [...this.hosts.values()]
      .filter((h) => h.name !== exclude && h.power === 'on')
      .filter((h) => {
        const v = this.serviceView(h.name, 'nova-compute');
        return v?.status === 'enabled' && v.state === 'up';
      })
      .map((h) => ({ name: h.name, load: load(h.name) }))
      .sort((a, b) => a.load - b.load || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
