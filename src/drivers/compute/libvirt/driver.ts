// The ComputeDriver for plain KVM hosts: each host is a libvirt connection, each server a domain (by UUID).
// What Nova keeps in its database and libvirt does not have (compute services, locks, reset states, where an
// evacuated server lives now, the last-seen XML of a dead host's domains) is kept by the controller in
// LibvirtStateStore. Mapping of states: states.ts. HA_Enabled: metadata.ts.
//
// Evacuation = define the failed host's domain XML on the target host and start it there. It needs storage the
// target can reach (shared or replicated disks; diskless in the tests). The driver refuses while the source host
// is reachable and does not count as down, and always while the domain still runs there; proving the host is
// powered off is the engine's fence gate's job (host_failure.fencing_required).

import type { Logger } from '../../../core/log.ts';
import {
  ComputeDriverError,
  type Aggregate,
  type ComputeDriver,
  type ComputeService,
  type EvacuationRecord,
  type HostCapacity,
  type ServerInfo,
} from '../../../core/ports/compute.ts';
import { Affect, ErrorCode, LibvirtError, type Domain, type LibvirtConnection } from '../../libvirt/index.ts';
import { ConnectionPool } from './connections.ts';
import { haElement, METADATA_KEY, serverMetadata } from './metadata.ts';
import type { LibvirtStateStore, SeenDomain } from './state-store.ts';
import { isRunningState, mapDomainState } from './states.ts';
import { domainResources, nodeCapacity, sumResources, type AllocationPolicy } from './resources.ts';
import { errorMessage } from '../../../core/errors.ts';

/** virDomainXMLFlags SECURE | INACTIVE: the persistent definition with secrets, i.e. what defineXML needs. */
const DEFINITION_XML = 1 | 2;

export interface LibvirtComputeOptions {
  /** host name -> libvirt URI */
  hosts: Record<string, string>;
  metadataNamespace: string;
  /** Metadata keys the engine reads for HA_Enabled (instance and host failure may name different keys). */
  haKeys: string[];
  haEnabledDefault: boolean;
  state: LibvirtStateStore;
  connectTimeoutMs: number;
  /** How long an unreachable host is not asked again. Default 3 s. */
  retryUnreachableMs?: number;
  /** Period of the XML inventory refresh; 0 = none. */
  inventoryIntervalMs: number;
  log: Logger;
  /** How hostCapacity turns node info into allocatable room (libvirt_compute.*_allocation_ratio). Default: Nova's. */
  allocation?: AllocationPolicy;
}

/** Nova's defaults: initial_cpu_allocation_ratio 4.0, initial_ram_allocation_ratio 1.0, reserved_host_memory_mb 512. */
export const DEFAULT_ALLOCATION: AllocationPolicy = { cpuAllocationRatio: 4, ramAllocationRatio: 1, reservedHostMemoryMb: 512 };

/** A server found on a host: live (domain handle, caller frees it) or only remembered (host unreachable). */
type Located = { kind: 'live'; host: string; conn: LibvirtConnection; dom: Domain } | { kind: 'remembered'; host: string; seen: SeenDomain };

/** libvirt errors that mean "the connection to the daemon broke", not "the request was wrong". */
const CONNECTION_ERRORS = new Set<number>([ErrorCode.NO_CONNECT, ErrorCode.INVALID_CONN, ErrorCode.RPC, ErrorCode.SYSTEM_ERROR, ErrorCode.INTERNAL_ERROR]);

function toDriverError(e: unknown, what: string): ComputeDriverError {
  if (e instanceof ComputeDriverError) return e;
  if (e instanceof LibvirtError) {
    if (e.libvirtCode === ErrorCode.NO_DOMAIN) return new ComputeDriverError('not_found', `${what}: ${e.message}`);
    if (e.libvirtCode === ErrorCode.OPERATION_INVALID || e.libvirtCode === ErrorCode.DOM_EXIST)
      return new ComputeDriverError('conflict', `${what}: ${e.message}`);
    if (e.libvirtCode === ErrorCode.OPERATION_TIMEOUT) return new ComputeDriverError('timeout', `${what}: ${e.message}`);
    if (e.libvirtCode === ErrorCode.XML_ERROR || e.libvirtCode === ErrorCode.INVALID_ARG) return new ComputeDriverError('bad_request', `${what}: ${e.message}`);
    if (
      e.libvirtCode === ErrorCode.NO_CONNECT ||
      e.libvirtCode === ErrorCode.INVALID_CONN ||
      e.libvirtCode === ErrorCode.RPC ||
      e.libvirtCode === ErrorCode.SYSTEM_ERROR
    ) {
      return new ComputeDriverError('unavailable', `${what}: ${e.message}`);
    }
    return new ComputeDriverError('unknown', `${what}: ${e.message}`);
  }
  return new ComputeDriverError('unknown', `${what}: ${errorMessage(e)}`);
}

export class LibvirtComputeDriver implements ComputeDriver {
  readonly name = 'libvirt';
  private readonly pool: ConnectionPool;
  private readonly state: LibvirtStateStore;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  /** Tail of the placement queue (evacuateServer): target choice and domain start, one evacuation at a time. */
  private placementTail: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: LibvirtComputeOptions) {
    if (Object.keys(o.hosts).length === 0) throw new Error('libvirt compute driver: no host configured (libvirt_compute.hosts)');
    this.log = o.log;
    this.state = o.state;
    this.pool = new ConnectionPool({
      hosts: o.hosts,
      connectTimeoutMs: o.connectTimeoutMs,
      retryAfterMs: o.retryUnreachableMs ?? 3000,
      log: o.log,
      keepalive: { intervalSec: 5, count: 3 },
    });
  }

  get hostNames(): string[] {
    return this.pool.hostNames;
  }

  /** Starts the periodic XML inventory (so a host that dies later has its domains remembered). */
  start(): void {
    if (this.o.inventoryIntervalMs <= 0 || this.timer) return;
    const tick = () => {
      void this.refreshInventory().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.o.inventoryIntervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  /** Stops the inventory and closes the hosts' connections; resolves once libvirt has released them. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pool.close();
  }

  /** Forgets a host's connection (tests; after reconfiguring a peer): the next call connects again. */
  reconnect(host: string): void {
    this.pool.reset(host);
  }

  /** Reads every reachable host's domains into the state file. Never throws. */
  async refreshInventory(): Promise<void> {
    for (const host of this.pool.hostNames) {
      try {
        await this.listServersOnHost(host);
      } catch (e) {
        this.log.debug({ host, err: errorMessage(e) }, 'inventory refresh skipped a host');
      }
    }
  }

  // --- reading ---------------------------------------------------------------------------------------------------

  // Every libvirt call below that talks to a (possibly remote) daemon runs on a worker thread (the *Async forms):
  // a frozen libvirtd on one host must not stall the controller's API and engine until keepalive gives up.
  private async metadataOf(dom: Domain): Promise<Record<string, string>> {
    let el: string | null = null;
    try {
      el = await dom.getMetadataAsync(this.o.metadataNamespace);
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'cannot read domain metadata; treating it as absent');
    }
    const out: Record<string, string> = {};
    for (const key of this.o.haKeys) Object.assign(out, serverMetadata(el, key, this.o.haEnabledDefault));
    return out;
  }

  /** Reads a live domain, remembers it (XML for evacuation) and returns the remembered form. */
  private async observe(host: string, dom: Domain): Promise<SeenDomain> {
    const seen: SeenDomain = {
      name: dom.name(),
      xml: await dom.xmlAsync(DEFINITION_XML),
      state: (await dom.stateAsync()).state,
      metadata: await this.metadataOf(dom),
      seenAt: new Date().toISOString(),
    };
    return seen;
  }

  private toServer(id: string, host: string, seen: SeenDomain): ServerInfo {
    const mapped = mapDomainState(seen.state);
    const st = this.state.server(id);
    const resources = domainResources(seen.xml);
    return {
      ...(resources ? { resources } : {}),
      id,
      name: seen.name,
      host,
      vmState: st.resetToError ? 'error' : mapped.vmState,
      taskState: mapped.taskState,
      powerState: mapped.powerState,
      metadata: { ...seen.metadata },
      locked: st.locked === true,
    };
  }

  /** Does `host` still own server `id`? Not when it was evacuated elsewhere (its old definition may remain). */
  private ownedBy(id: string, host: string): boolean {
    const home = this.state.server(id).home;
    return home === undefined || home === host || !this.pool.has(home);
  }

  async hostExists(hostname: string): Promise<boolean> {
    return this.pool.has(hostname);
  }

  async listServersOnHost(host: string): Promise<ServerInfo[]> {
    if (!this.pool.has(host)) return [];
    const conn = await this.pool.tryGet(host);
    if (!conn) {
      // A dead host: what we saw there last is all there is (Nova too lists a down host's servers from its DB).
      return Object.entries(this.state.seen(host))
        .filter(([id]) => this.ownedBy(id, host))
        .map(([id, s]) => this.toServer(id, host, s));
    }
    let doms: Domain[];
    try {
      doms = await conn.listDomainsAsync('all');
    } catch (e) {
      throw toDriverError(e, `listing domains on ${host}`);
    }
    const seen: Record<string, SeenDomain> = {};
    const out: ServerInfo[] = [];
    try {
      for (const d of doms) {
        let id: string;
        try {
          id = d.uuid();
          seen[id] = await this.observe(host, d);
        } catch (e) {
          // Undefined between listing and reading: not there any more.
          if (e instanceof LibvirtError && e.libvirtCode === ErrorCode.NO_DOMAIN) continue;
          throw toDriverError(e, `reading a domain on ${host}`);
        }
        if (this.ownedBy(id, host)) out.push(this.toServer(id, host, seen[id]!));
      }
    } finally {
      for (const d of doms) d.free();
    }
    this.state.setSeen(host, seen);
    return out;
  }

  /**
   * Where server `id` is. Order: its home after an evacuation, then a host where it runs, then any host that
   * defines it, then (hosts unreachable) the last place we saw it.
   */
  private async locate(id: string): Promise<Located> {
    // libvirt's own UUID syntax (hex digits, dashes anywhere): anything else cannot name a domain.
    if (!/^[0-9a-fA-F-]+$/.test(id) || id.replace(/-/g, '').length !== 32) {
      throw new ComputeDriverError('not_found', `No server with id ${id} on any libvirt host (not a UUID)`);
    }
    const home = this.state.server(id).home;
    const order = home && this.pool.has(home) ? [home, ...this.pool.hostNames.filter((h) => h !== home)] : this.pool.hostNames;
    const found: Extract<Located, { kind: 'live' }>[] = [];
    const unreachable: string[] = [];
    try {
      for (const host of order) {
        const conn = await this.pool.tryGet(host);
        if (!conn) {
          unreachable.push(host);
          continue;
        }
        let dom: Domain | null;
        try {
          dom = await conn.lookupByUUIDAsync(id);
        } catch (e) {
          // The connection broke while we asked (daemon died, or froze until keepalive closed it): the host is
          // unreachable, as if the connection had failed to open. Never "not found": that would read as "no such VM".
          if (conn.lost || (e instanceof LibvirtError && CONNECTION_ERRORS.has(e.libvirtCode))) {
            unreachable.push(host);
            continue;
          }
          throw toDriverError(e, `looking up ${id} on ${host}`);
        }
        if (!dom) continue;
        found.push({ kind: 'live', host, conn, dom });
        if (host === home) break;
      }
      let pick = found.find((f) => f.host === home);
      for (const f of found) {
        if (pick) break;
        if (await safeRunning(f.dom)) pick = f;
      }
      pick ??= found[0];
      if (pick) {
        for (const f of found) if (f !== pick) f.dom.free();
        return pick;
      }
    } catch (e) {
      for (const f of found) f.dom.free();
      throw e;
    }
    for (const host of home && unreachable.includes(home) ? [home, ...unreachable] : unreachable) {
      const seen = this.state.seen(host)[id];
      if (seen) return { kind: 'remembered', host, seen };
    }
    throw new ComputeDriverError('not_found', `No server with id ${id} on any libvirt host (${this.pool.hostNames.join(', ')})`);
  }

  /** Like locate(), but the server must be reachable to act on it. */
  private async locateLive(id: string, action: string): Promise<Extract<Located, { kind: 'live' }>> {
    const l = await this.locate(id);
    if (l.kind === 'remembered') throw new ComputeDriverError('unavailable', `cannot ${action} server ${id}: its host ${l.host} is unreachable`);
    return l;
  }

  private async withLive<T>(id: string, action: string, fn: (l: Extract<Located, { kind: 'live' }>) => Promise<T>): Promise<T> {
    const l = await this.locateLive(id, action);
    try {
      return await fn(l);
    } catch (e) {
      throw toDriverError(e, `${action} ${id} on ${l.host}`);
    } finally {
      l.dom.free();
    }
  }

  async getServer(id: string): Promise<ServerInfo> {
    const l = await this.locate(id);
    if (l.kind === 'remembered') return this.toServer(id, l.host, l.seen);
    try {
      const seen = await this.observe(l.host, l.dom);
      this.state.seenOne(l.host, id, seen);
      return this.toServer(id, l.host, seen);
    } catch (e) {
      throw toDriverError(e, `reading server ${id} on ${l.host}`);
    } finally {
      l.dom.free();
    }
  }

  // --- acting on one server ----------------------------------------------------------------------------------

  async stopServer(id: string): Promise<void> {
    await this.withLive(id, 'stop', async ({ dom, host }) => {
      if (!isRunningState((await dom.stateAsync()).state)) throw new ComputeDriverError('conflict', `Cannot stop server ${id} on ${host}: it is not running`);
      // A hard power-off: the engine stops a VM that failed, there is no guest to wait for.
      await dom.destroy();
      this.log.info({ instance: id, host }, 'domain stopped (virDomainDestroy)');
    });
  }

  async startServer(id: string): Promise<void> {
    await this.withLive(id, 'start', async ({ dom, host }) => {
      if (isRunningState((await dom.stateAsync()).state))
        throw new ComputeDriverError('conflict', `Cannot start server ${id} on ${host}: it is already running`);
      await dom.start();
      this.state.updateServer(id, { resetToError: false });
      this.log.info({ instance: id, host }, 'domain started (virDomainCreate)');
    });
  }

  async resetServerState(id: string, state: 'active' | 'error'): Promise<void> {
    await this.locate(id).then((l) => (l.kind === 'live' ? l.dom.free() : undefined));
    this.state.updateServer(id, { resetToError: state === 'error' });
  }

  async lockServer(id: string): Promise<void> {
    await this.locate(id).then((l) => (l.kind === 'live' ? l.dom.free() : undefined));
    this.state.updateServer(id, { locked: true });
  }

  async unlockServer(id: string): Promise<void> {
    await this.locate(id).then((l) => (l.kind === 'live' ? l.dom.free() : undefined));
    this.state.updateServer(id, { locked: false });
  }

  /** Marks (or unmarks) a domain HA-enabled through our metadata element, live and in its persistent config. */
  async setHaEnabled(id: string, enabled: boolean): Promise<void> {
    await this.withLive(id, 'mark HA on', async ({ dom }) => {
      const running = await dom.isActiveAsync();
      const persistent = dom.isPersistent();
      const affect = (running ? Affect.LIVE : 0) | (persistent ? Affect.CONFIG : 0) || Affect.CURRENT;
      dom.setMetadata(this.o.metadataNamespace, METADATA_KEY, haElement(enabled), affect);
    });
  }

  /**
   * Our evacuation is complete when evacuateServer returns (define and start on the target, in the call), and a
   * repeated call finds the domain on the target first: there is never one in flight to wait for.
   */
  async latestEvacuation(): Promise<EvacuationRecord | null> {
    return null;
  }

  async evacuateServer(id: string, targetHost?: string): Promise<void> {
    const l = await this.locate(id);
    const source = l.host;
    try {
      const svc = await this.getComputeService(source);
      if (svc.state === 'up') {
        throw new ComputeDriverError('conflict', `Compute service of host ${source} is still in use (up): evacuation needs it down or forced down`);
      }
      let xml: string;
      if (l.kind === 'live') {
        // Reachable but forced down (fenced hosts are usually not reachable): never run a VM twice.
        if (isRunningState((await l.dom.stateAsync()).state)) {
          throw new ComputeDriverError('conflict', `Cannot evacuate ${id}: its domain still runs on ${source}`);
        }
        xml = await l.dom.xmlAsync(DEFINITION_XML);
      } else {
        xml = l.seen.xml;
      }
      // Choosing the target and starting the domain there is one step for all evacuations of this driver (Placement's
      // claim, in Nova): two evacuations at once must not both count the same free room.
      const target = await this.placing(async () => {
        const to = targetHost ?? (await this.schedule(source, xml));
        if (to === source) throw new ComputeDriverError('bad_request', `Cannot evacuate ${id} to its own host ${source}`);
        if (!this.pool.has(to)) throw new ComputeDriverError('bad_request', `Target host ${to} is not a configured libvirt host`);
        const conn = await this.pool.get(to);
        let dom: Domain;
        try {
          const existing = await conn.lookupByUUIDAsync(id);
          // A named target is checked as Nova's scheduler checks a requested host (no "force"): no room, no evacuation.
          if (!existing && targetHost !== undefined) await this.requireRoom(to, xml);
          dom = existing ?? (await conn.defineXMLAsync(xml));
        } catch (e) {
          throw toDriverError(e, `defining ${id} on ${to}`);
        }
        try {
          // Idempotent: a resumed evacuation finds the domain defined (and maybe running) already.
          if (!isRunningState((await dom.stateAsync()).state)) await dom.start();
        } catch (e) {
          throw toDriverError(e, `starting ${id} on ${to}`);
        } finally {
          dom.free();
        }
        return to;
      });
      this.state.updateServer(id, { home: target, resetToError: false });
      this.log.info({ instance: id, from: source, to: target }, 'domain evacuated: defined and started on the target host');
    } finally {
      if (l.kind === 'live') l.dom.free();
    }
  }

  /**
   * The "scheduler": among the other hosts that are enabled and up, those where the domain fits (hostCapacity), the
   * one with the most free RAM (as Nova's default weigher; the what-if planner predicts the same choice). A host
   * whose capacity cannot be read does not get it.
   */
  private async schedule(source: string, xml: string): Promise<string> {
    const need = domainResources(xml);
    let best: { host: string; freeRam: number } | undefined;
    let enabled = 0;
    for (const h of this.pool.hostNames) {
      if (h === source) continue;
      const s = await this.getComputeService(h);
      if (s.status !== 'enabled' || s.state !== 'up') continue;
      enabled++;
      let cap: HostCapacity;
      try {
        cap = await this.hostCapacity(h);
      } catch (e) {
        this.log.warn({ host: h, err: errorMessage(e) }, 'cannot read host capacity: not scheduling there');
        continue;
      }
      const freeVcpus = cap.total.vcpus - cap.used.vcpus;
      const freeRam = cap.total.ramMb - cap.used.ramMb;
      if (need && (need.vcpus > freeVcpus || need.ramMb > freeRam)) continue;
      if (!best || freeRam > best.freeRam) best = { host: h, freeRam };
    }
    if (best) return best.host;
    if (enabled > 0) {
      throw new ComputeDriverError(
        'unavailable',
        `No libvirt host has room for this domain (${need?.vcpus ?? '?'} vCPU, ${need?.ramMb ?? '?'} MiB): no valid host`,
      );
    }
    throw new ComputeDriverError('unavailable', `No libvirt host to evacuate to: no other host than ${source} is enabled and reachable`);
  }

  private placing<T>(step: () => Promise<T>): Promise<T> {
    const result = this.placementTail.then(step, step);
    this.placementTail = result.catch(() => undefined);
    return result;
  }

  private async requireRoom(host: string, xml: string): Promise<void> {
    const need = domainResources(xml);
    if (!need) return;
    const cap = await this.hostCapacity(host);
    if (need.vcpus > cap.total.vcpus - cap.used.vcpus || need.ramMb > cap.total.ramMb - cap.used.ramMb) {
      throw new ComputeDriverError('unavailable', `Host ${host} has no room for this domain (${need.vcpus} vCPU, ${need.ramMb} MiB): no valid host`);
    }
  }

  /**
   * Node info (CPUs, memory) times the allocation ratios, less what the host's running domains take (their <vcpu>
   * and <memory>). Disk is not tracked (null): evacuation needs the domain's disks on shared storage.
   */
  async hostCapacity(host: string): Promise<HostCapacity> {
    this.requireHost(host);
    const conn = await this.pool.tryGet(host);
    if (!conn) throw new ComputeDriverError('unavailable', `cannot read the capacity of ${host}: the host is unreachable`);
    let node;
    try {
      node = await conn.nodeInfoAsync();
    } catch (e) {
      throw toDriverError(e, `reading node info of ${host}`);
    }
    const servers = await this.listServersOnHost(host);
    // A domain that does not run holds no CPU or memory on a plain KVM host.
    const running = servers.filter((s) => s.vmState !== 'stopped' && s.powerState !== 0);
    return { host, total: nodeCapacity(node, this.o.allocation ?? DEFAULT_ALLOCATION), used: sumResources(running.map((s) => s.resources)) };
  }

  // --- compute services (kept by the controller) ---------------------------------------------------------------

  async getComputeService(host: string, binary = 'nova-compute'): Promise<ComputeService> {
    if (!this.pool.has(host)) throw new ComputeDriverError('not_found', `Compute service with host ${host} could not be found (not in libvirt_compute.hosts)`);
    const s = this.state.service(host);
    const reachable = s.forcedDown ? false : (await this.pool.tryGet(host)) !== null;
    return {
      id: `libvirt:${host}`,
      host,
      binary,
      status: s.disabled ? 'disabled' : 'enabled',
      state: reachable ? 'up' : 'down',
      forcedDown: s.forcedDown,
      disabledReason: s.disabled ? s.reason : null,
    };
  }

  private requireHost(host: string): void {
    if (!this.pool.has(host)) throw new ComputeDriverError('not_found', `Compute service with host ${host} could not be found (not in libvirt_compute.hosts)`);
  }

  async disableComputeService(host: string, reason: string): Promise<void> {
    this.requireHost(host);
    this.state.setService(host, { ...this.state.service(host), disabled: true, reason });
  }

  async enableComputeService(host: string): Promise<void> {
    this.requireHost(host);
    this.state.setService(host, { ...this.state.service(host), disabled: false, reason: null });
  }

  async setComputeServiceForcedDown(host: string, forcedDown: boolean): Promise<void> {
    this.requireHost(host);
    this.state.setService(host, { ...this.state.service(host), forcedDown });
  }

  async listAggregates(): Promise<Aggregate[]> {
    throw new ComputeDriverError('unsupported', 'libvirt hosts have no aggregates (host_failure.add_reserved_host_to_aggregate must stay false)');
  }

  async addHostToAggregate(): Promise<void> {
    throw new ComputeDriverError('unsupported', 'libvirt hosts have no aggregates (host_failure.add_reserved_host_to_aggregate must stay false)');
  }
}

async function safeRunning(d: Domain): Promise<boolean> {
  try {
    return isRunningState((await d.stateAsync()).state);
  } catch {
    return false;
  }
}
