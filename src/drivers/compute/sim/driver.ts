// ComputeDriver over the simulated cloud: every call waits the configured API latency, may hit an injected fault,
// then applies Nova's rules. Mutating calls are reported to the cloud's event log (the simulator's golden logs).

import {
  ComputeDriverError,
  type Aggregate,
  type ComputeDriver,
  type ComputeService,
  type EvacuationRecord,
  type HostCapacity,
  type ObserveHint,
  type ServerInfo,
} from '../../../core/ports/compute.ts';
import type { SimCloud, SimOp, SimServer } from './cloud.ts';

const info = (s: SimServer): ServerInfo => ({
  id: s.id,
  name: s.name,
  host: s.host,
  vmState: s.vmState,
  taskState: s.taskState,
  powerState: s.powerState,
  metadata: { ...s.metadata },
  locked: s.locked,
  ...(s.resources ? { resources: { ...s.resources } } : {}),
});

export interface SimDriverOptions {
  /**
   * Offer the batched observeServers (one API call for any number of servers, like Nova's listing of a host), so the
   * engine confirms evacuations in batches. Off by default: the simulator's golden logs time per-server polling.
   */
  batchObserve?: boolean;
}

export class SimComputeDriver implements ComputeDriver {
  readonly name = 'sim';
  /** API calls made, per operation (the load a recovery puts on the cloud's API). */
  readonly calls = new Map<SimOp, number>();
  observeServers?: (ids: string[], near: ObserveHint) => Promise<Map<string, ServerInfo | null>>;

  constructor(
    private readonly cloud: SimCloud,
    opts: SimDriverOptions = {},
  ) {
    if (opts.batchObserve) this.observeServers = (ids, near) => this.observeBatch(ids, near);
  }

  private async observeBatch(ids: string[], near: ObserveHint): Promise<Map<string, ServerInfo | null>> {
    await this.call('observeServers', near.host);
    const out = new Map<string, ServerInfo | null>();
    for (const id of ids) {
      const s = this.cloud.servers.get(id);
      out.set(id, s ? info(s) : null);
    }
    return out;
  }

  private async call(op: SimOp, target: string | undefined, extraMs = 0): Promise<void> {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    await this.cloud.env.sleep(this.cloud.latencies.apiMs + extraMs);
    if (!this.cloud.apiUp) throw new ComputeDriverError('unavailable', 'compute API unreachable (simulated outage)');
    const f = this.cloud.checkFault(op, target);
    if (f) {
      this.cloud.event(`fault ${op}${target ? ' ' + target : ''}: ${f.code}`);
      throw new ComputeDriverError(f.code, f.message ?? `injected ${f.code} on ${op}`);
    }
  }

  private server(id: string): SimServer {
    const s = this.cloud.servers.get(id);
    if (!s) throw new ComputeDriverError('not_found', `Instance ${id} could not be found.`);
    return s;
  }

  private service(host: string, binary: string): ComputeService {
    const h = this.cloud.hosts.get(host);
    const svc = h?.services.get(binary);
    if (!svc) throw new ComputeDriverError('not_found', `Compute service with name ${host} could not be found.`);
    return svc;
  }

  async hostExists(hostname: string): Promise<boolean> {
    await this.call('hostExists', hostname);
    return this.cloud.hosts.has(hostname);
  }

  async listServersOnHost(host: string): Promise<ServerInfo[]> {
    await this.call('listServersOnHost', host);
    return [...this.cloud.servers.values()].filter((s) => s.host === host).map(info);
  }

  async getServer(id: string): Promise<ServerInfo> {
    await this.call('getServer', id);
    return info(this.server(id));
  }

  async stopServer(id: string): Promise<void> {
    await this.call('stopServer', id);
    const s = this.server(id);
    if (s.vmState === 'stopped') throw new ComputeDriverError('conflict', `Cannot 'stop' instance ${id} while it is in vm_state stopped`);
    if (this.cloud.hosts.get(s.host)?.power !== 'on') throw new ComputeDriverError('conflict', `Compute host ${s.host} is down`);
    this.cloud.event(`stop ${id}`);
    s.taskState = 'powering-off';
    if (this.cloud.powerOutcome.get(id) === 'stuck') return;
    this.cloud.env.setTimer(() => {
      s.vmState = 'stopped';
      s.taskState = null;
      s.powerState = 4;
    }, this.cloud.latencies.stopMs);
  }

  async startServer(id: string): Promise<void> {
    await this.call('startServer', id);
    const s = this.server(id);
    if (s.vmState !== 'stopped') throw new ComputeDriverError('conflict', `Cannot 'start' instance ${id} while it is in vm_state ${s.vmState}`);
    this.cloud.event(`start ${id}`);
    s.taskState = 'powering-on';
    if (this.cloud.powerOutcome.get(id) === 'stuck') return;
    this.cloud.env.setTimer(() => {
      s.vmState = 'active';
      s.taskState = null;
      s.powerState = 1;
    }, this.cloud.latencies.startMs);
  }

  async resetServerState(id: string, state: 'active' | 'error'): Promise<void> {
    await this.call('resetServerState', id);
    const s = this.server(id);
    this.cloud.event(`reset-state ${id} ${state}`);
    s.vmState = state;
    s.taskState = null;
  }

  async lockServer(id: string): Promise<void> {
    await this.call('lockServer', id);
    this.cloud.event(`lock ${id}`);
    this.server(id).locked = true;
  }

  async unlockServer(id: string): Promise<void> {
    await this.call('unlockServer', id);
    this.cloud.event(`unlock ${id}`);
    this.server(id).locked = false;
  }

  async evacuateServer(id: string, targetHost?: string): Promise<void> {
    await this.call('evacuateServer', id, this.cloud.latencies.evacuateCallMs);
    const s = this.server(id);
    // Nova's checks, in its order: the source compute must be down, the server idle in an evacuable state.
    const src = this.cloud.serviceView(s.host, 'nova-compute');
    if (src && src.state === 'up') {
      throw new ComputeDriverError('conflict', `Compute service of ${s.host} is still in use.`);
    }
    if (!['active', 'stopped', 'error'].includes(s.vmState) || s.taskState !== null) {
      throw new ComputeDriverError('conflict', `Cannot 'evacuate' instance ${id} while it is in vm_state ${s.vmState}, task_state ${s.taskState}`);
    }
    let target = targetHost;
    if (target !== undefined) {
      const t = this.cloud.serviceView(target, 'nova-compute');
      if (!t) throw new ComputeDriverError('not_found', `Compute host ${target} could not be found.`);
      if (target === s.host) throw new ComputeDriverError('bad_request', "The target host can't be the same one.");
      if (t.status !== 'enabled' || t.state !== 'up') throw new ComputeDriverError('conflict', `Compute service of ${target} is unavailable at this time.`);
      if (!this.cloud.fits(target, s)) {
        // Without "force", Nova's scheduler checks the requested host too: no room there is "No valid host".
        this.cloud.event(`evacuate ${id} -> ${target}: No valid host was found (no room)`);
        s.vmState = 'error';
        this.cloud.evacuationRecords.set(id, { status: 'failed', createdAt: this.cloud.env.now(), destHost: null });
        return;
      }
    } else {
      target = this.cloud.schedule(s.host, s);
      if (target === undefined) {
        // Nova accepts the request; the conductor finds no valid host and the server ends in error on the old host.
        this.cloud.event(`evacuate ${id} (scheduler): No valid host was found`);
        s.vmState = 'error';
        this.cloud.evacuationRecords.set(id, { status: 'failed', createdAt: this.cloud.env.now(), destHost: null });
        return;
      }
    }
    this.cloud.event(`evacuate ${id} -> ${targetHost ?? `(scheduler: ${target})`}`);
    this.cloud.beginRebuild(s, target);
  }

  async latestEvacuation(id: string): Promise<EvacuationRecord | null> {
    await this.call('latestEvacuation', id);
    this.server(id);
    const r = this.cloud.evacuationRecords.get(id);
    return r ? { ...r } : null;
  }

  async getComputeService(host: string, binary = 'nova-compute'): Promise<ComputeService> {
    await this.call('getComputeService', host);
    this.service(host, binary);
    return this.cloud.serviceView(host, binary)!;
  }

  async disableComputeService(host: string, reason: string, binary = 'nova-compute'): Promise<void> {
    await this.call('disableComputeService', host);
    const svc = this.service(host, binary);
    this.cloud.event(`disable-service ${host} (${reason})`);
    svc.status = 'disabled';
    svc.disabledReason = reason;
  }

  async enableComputeService(host: string, binary = 'nova-compute'): Promise<void> {
    await this.call('enableComputeService', host);
    const svc = this.service(host, binary);
    this.cloud.event(`enable-service ${host}`);
    svc.status = 'enabled';
    svc.disabledReason = null;
  }

  async setComputeServiceForcedDown(host: string, forcedDown: boolean, binary = 'nova-compute'): Promise<void> {
    await this.call('setComputeServiceForcedDown', host);
    const svc = this.service(host, binary);
    this.cloud.event(`force-down ${host} ${forcedDown}`);
    svc.forcedDown = forcedDown;
  }

  async listAggregates(): Promise<Aggregate[]> {
    await this.call('listAggregates', undefined);
    return this.cloud.aggregates.map((a) => ({ ...a, hosts: [...a.hosts] }));
  }

  async addHostToAggregate(aggregateId: string, host: string): Promise<void> {
    await this.call('addHostToAggregate', host);
    const a = this.cloud.aggregates.find((x) => x.id === aggregateId);
    if (!a) throw new ComputeDriverError('not_found', `Aggregate ${aggregateId} could not be found.`);
    if (!this.cloud.hosts.has(host)) throw new ComputeDriverError('not_found', `Compute host ${host} could not be found.`);
    if (a.hosts.includes(host)) throw new ComputeDriverError('conflict', `Aggregate ${aggregateId} already has host ${host}.`);
    this.cloud.event(`aggregate-add ${a.name} ${host}`);
    a.hosts.push(host);
  }

  async hostCapacity(host: string): Promise<HostCapacity> {
    await this.call('hostCapacity', host);
    const h = this.cloud.hosts.get(host);
    if (!h) throw new ComputeDriverError('not_found', `Compute host ${host} could not be found.`);
    if (!h.capacity) throw new ComputeDriverError('unsupported', `The simulated host ${host} has no capacity configured.`);
    return { host, total: { ...h.capacity }, used: this.cloud.used(host) };
  }
}
