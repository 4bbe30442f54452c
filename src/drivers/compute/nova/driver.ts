// ComputeDriver for OpenStack Nova (compute API v2.1 with microversions >= 2.53). It makes the calls Masakari's
// recovery flows make (masakari/compute/nova.py), through the OpenStack client (Keystone auth, retry, timeout,
// microversion, request-id logging). It never polls or waits: waiting for states is the engine's business.

import {
  ComputeDriverError,
  type Aggregate,
  type ComputeDriver,
  type ComputeService,
  type EvacuationRecord,
  type HostCapacity,
  observeOneByOne,
  type ObserveHint,
  type Resources,
  type ServerInfo,
} from '../../../core/ports/compute.ts';
import type { Handler, HttpMethod, OsRequest, OsResponse } from '../../openstack/http.ts';
import {
  capacityFromInventories,
  errorFromClient,
  errorFromResponse,
  toAggregate,
  toComputeService,
  toEvacuationRecord,
  toServerInfo,
  usedFromUsages,
} from './mapping.ts';

export interface NovaDriverOptions {
  /** The OpenStack client's handler (createOpenStackClient(...).request). */
  request: Handler;
  /** Timeout for PUT /os-services (see openstack.service_update_timeout). */
  serviceUpdateTimeoutMs: number;
  /** Servers per page when listing a host. */
  pageSize: number;
}

const COMPUTE = 'nova-compute';
/** GETs at once for the servers a batched observation finds off the listed host (a burst of moves in one cycle). */
const MOVED_GETS_IN_PARALLEL = 4;

export class NovaComputeDriver implements ComputeDriver {
  readonly name = 'nova';

  constructor(private readonly o: NovaDriverOptions) {}

  /** One call to Nova: 2xx -> response; anything else -> ComputeDriverError carrying Nova's message and request id. */
  private async call(op: string, method: HttpMethod, url: string, extra: Partial<OsRequest> = {}): Promise<OsResponse> {
    let res: OsResponse;
    try {
      res = await this.o.request({ method, url, service: 'compute', ...extra });
    } catch (e) {
      throw errorFromClient(op, e);
    }
    if (res.status < 200 || res.status >= 300) throw errorFromResponse(op, res);
    return res;
  }

  private action(op: string, id: string, body: unknown): Promise<OsResponse> {
    return this.call(`${op} ${id}`, 'POST', `/servers/${encodeURIComponent(id)}/action`, { body });
  }

  private async services(host: string, binary: string): Promise<ComputeService[]> {
    const res = await this.call(`list services of ${host}`, 'GET', '/os-services', { query: { host, binary } });
    const list = (res.body as { services?: unknown } | null)?.services;
    if (!Array.isArray(list)) throw new ComputeDriverError('unknown', 'Nova answered GET /os-services without a services list');
    // The host filter is exact in Nova; filtering again guards against a proxy or an older API that ignores it.
    return list.map(toComputeService).filter((s) => s.host === host && s.binary === binary);
  }

  private async updateService(op: string, host: string, binary: string, body: Record<string, unknown>): Promise<void> {
    const svc = await this.getComputeService(host, binary);
    await this.call(`${op} ${host}`, 'PUT', `/os-services/${encodeURIComponent(svc.id)}`, { body, timeoutMs: this.o.serviceUpdateTimeoutMs });
  }

  async hostExists(hostname: string): Promise<boolean> {
    if (hostname === '') return false;
    return (await this.services(hostname, COMPUTE)).length > 0;
  }

  async listServersOnHost(host: string): Promise<ServerInfo[]> {
    const found = new Map<string, ServerInfo>();
    let marker: string | undefined;
    for (;;) {
      const query = { all_tenants: 'True', host, limit: this.o.pageSize, marker };
      const res = await this.call(`list servers on ${host}`, 'GET', '/servers/detail', { query });
      const body = res.body as { servers?: unknown; servers_links?: { rel?: string }[] } | null;
      if (!Array.isArray(body?.servers)) throw new ComputeDriverError('unknown', 'Nova answered GET /servers/detail without a servers list');
      const page = body.servers.map(toServerInfo);
      // A server can move between pages while we page (it is being evacuated): keep the last view of each.
      for (const s of page) found.set(s.id, s);
      const hasNext = Array.isArray(body.servers_links) && body.servers_links.some((l) => l?.rel === 'next');
      const last = page.at(-1)?.id;
      if (!hasNext || last === undefined) break;
      if (last === marker) throw new ComputeDriverError('unknown', `Nova returned the same page twice while listing servers on ${host}`);
      marker = last;
    }
    return [...found.values()].filter((s) => s.host === host);
  }

  async getServer(id: string): Promise<ServerInfo> {
    const res = await this.call(`get server ${id}`, 'GET', `/servers/${encodeURIComponent(id)}`);
    return toServerInfo((res.body as { server?: unknown } | null)?.server);
  }

  /**
   * Many servers for the price of one listing: GET /servers/detail?all_tenants&host=<near.host> (paged) answers for
   * every server still on that host (the failed host, during an evacuation), and only the servers no longer there
   * cost a GET each: usually once, when their move has been recorded. So confirming N evacuations costs one listing
   * per polling cycle plus about one GET per server, whatever N.
   */
  async observeServers(ids: string[], near: ObserveHint): Promise<Map<string, ServerInfo | null>> {
    const wanted = new Set(ids);
    const out = new Map<string, ServerInfo | null>();
    for (const s of await this.listServersOnHost(near.host)) if (wanted.has(s.id)) out.set(s.id, s);
    const elsewhere = ids.filter((id) => !out.has(id));
    for (const [id, s] of await observeOneByOne(this, elsewhere, MOVED_GETS_IN_PARALLEL)) out.set(id, s);
    return out;
  }

  async stopServer(id: string): Promise<void> {
    await this.action('stop', id, { 'os-stop': null });
  }

  async startServer(id: string): Promise<void> {
    await this.action('start', id, { 'os-start': null });
  }

  async resetServerState(id: string, state: 'active' | 'error'): Promise<void> {
    if (state !== 'active' && state !== 'error') throw new ComputeDriverError('bad_request', `reset state: "${state}" is not active or error`);
    await this.action('reset state', id, { 'os-resetState': { state } });
  }

  async lockServer(id: string): Promise<void> {
    await this.action('lock', id, { lock: null });
  }

  async unlockServer(id: string): Promise<void> {
    await this.action('unlock', id, { unlock: null });
  }

  async evacuateServer(id: string, targetHost?: string): Promise<void> {
    // From 2.14 on Nova finds out about shared storage itself (no onSharedStorage), and it answers without an
    // adminPass. Without "force" the scheduler still checks the target host (2.29+).
    const body = targetHost === undefined ? { evacuate: {} } : { evacuate: { host: targetHost } };
    await this.action(targetHost === undefined ? 'evacuate' : `evacuate to ${targetHost}`, id, body);
  }

  async latestEvacuation(id: string): Promise<EvacuationRecord | null> {
    // instance_uuid and migration_type are filters of os-migrations at every microversion we use (2.53+).
    const res = await this.call(`list evacuations of ${id}`, 'GET', '/os-migrations', { query: { instance_uuid: id, migration_type: 'evacuation' } });
    const list = (res.body as { migrations?: unknown } | null)?.migrations;
    if (!Array.isArray(list)) throw new ComputeDriverError('unknown', 'Nova answered GET /os-migrations without a migrations list');
    type Row = { id?: unknown; instance_uuid?: unknown; migration_type?: unknown };
    let newest: Row | undefined;
    for (const m of list as Row[]) {
      // Filtered again: an API that ignored a filter must not make another server's migration count.
      if (m?.instance_uuid !== id || (m.migration_type ?? 'evacuation') !== 'evacuation') continue;
      if (newest === undefined || Number(m.id) > Number(newest.id)) newest = m;
    }
    return newest === undefined ? null : toEvacuationRecord(newest);
  }

  async getComputeService(host: string, binary = COMPUTE): Promise<ComputeService> {
    const svc = (await this.services(host, binary))[0];
    if (!svc) throw new ComputeDriverError('not_found', `Compute service with name ${host} could not be found (binary ${binary}).`);
    return svc;
  }

  async disableComputeService(host: string, reason: string, binary = COMPUTE): Promise<void> {
    await this.updateService('disable service', host, binary, { status: 'disabled', disabled_reason: reason });
  }

  async enableComputeService(host: string, binary = COMPUTE): Promise<void> {
    await this.updateService('enable service', host, binary, { status: 'enabled' });
  }

  async setComputeServiceForcedDown(host: string, forcedDown: boolean, binary = COMPUTE): Promise<void> {
    await this.updateService(forcedDown ? 'force down service' : 'unset forced down', host, binary, { forced_down: forcedDown });
  }

  async listAggregates(): Promise<Aggregate[]> {
    const res = await this.call('list aggregates', 'GET', '/os-aggregates');
    const list = (res.body as { aggregates?: unknown } | null)?.aggregates;
    if (!Array.isArray(list)) throw new ComputeDriverError('unknown', 'Nova answered GET /os-aggregates without an aggregates list');
    return list.map(toAggregate);
  }

  async addHostToAggregate(aggregateId: string, host: string): Promise<void> {
    await this.call(`add ${host} to aggregate ${aggregateId}`, 'POST', `/os-aggregates/${encodeURIComponent(aggregateId)}/action`, {
      body: { add_host: { host } },
    });
  }

  /**
   * From Placement: the host's compute nodes (os-hypervisors; from 2.53 a hypervisor's id is its compute node's
   * UUID, which is its resource provider's UUID), then each provider's inventories and usages, summed over the
   * host's nodes (one for libvirt; several for ironic).
   */
  async hostCapacity(host: string): Promise<HostCapacity> {
    // At 2.88+ the detailed listing carries each hypervisor's uptime, which nova-api asks every compute host for over
    // RPC: a cost that grows with the cloud, for a field we never read. 2.87 has everything we need (id, service).
    const res = await this.call(`list hypervisors of ${host}`, 'GET', '/os-hypervisors/detail', { maxMicroversion: '2.87' });
    const list = (res.body as { hypervisors?: unknown } | null)?.hypervisors;
    if (!Array.isArray(list)) throw new ComputeDriverError('unknown', 'Nova answered GET /os-hypervisors/detail without a hypervisors list');
    type Hyp = { id?: unknown; service?: { host?: unknown } };
    const nodes = (list as Hyp[]).filter((h) => h?.service?.host === host && typeof h.id === 'string').map((h) => h.id as string);
    if (nodes.length === 0) throw new ComputeDriverError('not_found', `No hypervisor of compute host ${host} in Nova`);
    const total: Resources = { vcpus: 0, ramMb: 0, diskGb: 0 };
    const used: Resources = { vcpus: 0, ramMb: 0, diskGb: 0 };
    const add = (into: Resources, r: Resources) => {
      into.vcpus += r.vcpus;
      into.ramMb += r.ramMb;
      into.diskGb = (into.diskGb ?? 0) + (r.diskGb ?? 0);
    };
    for (const rp of nodes) {
      const url = `/resource_providers/${encodeURIComponent(rp)}`;
      add(total, capacityFromInventories((await this.call(`inventories of ${host}`, 'GET', `${url}/inventories`, { service: 'placement' })).body));
      add(used, usedFromUsages((await this.call(`usages of ${host}`, 'GET', `${url}/usages`, { service: 'placement' })).body));
    }
    return { host, total, used };
  }
}
