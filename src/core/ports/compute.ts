// What the recovery engine needs from a cloud or hypervisor backend. core owns this interface;
// src/drivers/compute/{sim,nova,libvirt} implement it, and all of them pass one contract suite
// (test/drivers/compute-contract.ts).

import { AppError } from '../errors.ts';

/** Nova-style vm_state values; the libvirt driver maps domain states onto them. */
export type VmState =
  'active' | 'building' | 'paused' | 'suspended' | 'stopped' | 'rescued' | 'resized' | 'soft-delete' | 'deleted' | 'error' | 'shelved' | 'shelved_offloaded';

export interface ServerInfo {
  id: string;
  name: string;
  /** Compute host the server is on (Nova's OS-EXT-SRV-ATTR:host); null when unknown. */
  host: string | null;
  vmState: VmState;
  /** Nova's OS-EXT-STS:task_state; null when idle. */
  taskState: string | null;
  /** Nova's power_state: 0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 6 CRASHED, 7 SUSPENDED. */
  powerState: number;
  metadata: Record<string, string>;
  locked: boolean;
  /**
   * What the server takes on a host (Nova: its flavor; libvirt: the domain's vCPUs and memory), so that the what-if
   * planner can tell whether it fits elsewhere. Absent when the backend does not say.
   */
  resources?: Resources;
}

/** Amounts of the three resources that decide whether a server fits on a host. */
export interface Resources {
  vcpus: number;
  ramMb: number;
  /** null: the backend does not track local disk for placement (libvirt evacuation needs shared storage anyway). */
  diskGb: number | null;
}

/**
 * A compute host's room for servers: `total` is what may be allocated (Nova: Placement's (total - reserved) x
 * allocation_ratio; libvirt: node info x the configured ratios), `used` what servers hold now.
 */
export interface HostCapacity {
  host: string;
  total: Resources;
  used: Resources;
}

export interface ComputeService {
  id: string;
  host: string;
  binary: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  forcedDown: boolean;
  disabledReason: string | null;
}

/** The backend's record of a server's latest evacuation (Nova: its newest migration of type evacuation). */
export interface EvacuationRecord {
  /**
   * in_progress: the backend may still move the server, although it may already look idle on the failed host
   * (Nova shows it active, no task state, on the old host until the new host has recorded the move). Evacuating
   * it again then starts it a second time elsewhere.
   */
  status: 'in_progress' | 'done' | 'failed';
  createdAt: Date | null;
  destHost: string | null;
}

export interface Aggregate {
  id: string;
  name: string;
  hosts: string[];
}

/** Thrown by drivers; `code` is stable so the engine can branch on it. */
export class ComputeDriverError extends AppError {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'unavailable' | 'timeout' | 'bad_request' | 'unsupported' | 'unknown',
    message: string,
  ) {
    super(message);
  }
}

export interface ComputeDriver {
  readonly name: string;
  /** For API host validation: is `hostname` a compute host this backend knows? */
  hostExists(hostname: string): Promise<boolean>;
  listServersOnHost(host: string): Promise<ServerInfo[]>;
  /** Throws ComputeDriverError('not_found') when the server does not exist. */
  getServer(id: string): Promise<ServerInfo>;
  stopServer(id: string): Promise<void>;
  startServer(id: string): Promise<void>;
  resetServerState(id: string, state: 'active' | 'error'): Promise<void>;
  lockServer(id: string): Promise<void>;
  unlockServer(id: string): Promise<void>;
  /** Rebuilds the server on `targetHost`, or on a host the backend's scheduler picks when undefined. */
  evacuateServer(id: string, targetHost?: string): Promise<void>;
  /**
   * The latest evacuation of the server the backend knows of; null when there is none, or when the backend's
   * evacuation is complete when evacuateServer returns (libvirt). The engine asks before every evacuate call.
   */
  latestEvacuation(id: string): Promise<EvacuationRecord | null>;
  getComputeService(host: string, binary?: string): Promise<ComputeService>;
  disableComputeService(host: string, reason: string, binary?: string): Promise<void>;
  enableComputeService(host: string, binary?: string): Promise<void>;
  /** Marks the service forced-down (Nova 2.11+), so evacuation is allowed without waiting for its heartbeat to expire. */
  setComputeServiceForcedDown(host: string, forcedDown: boolean, binary?: string): Promise<void>;
  listAggregates(): Promise<Aggregate[]>;
  addHostToAggregate(aggregateId: string, host: string): Promise<void>;
  /** The host's capacity and current usage (the what-if planner, src/core/protection/whatif/). */
  hostCapacity(host: string): Promise<HostCapacity>;
  /**
   * Optional: the current view of many servers at once, for backends that charge per request (Nova: one listing of
   * `near.host` instead of one GET per server). Each id maps to its ServerInfo, or to null when the server does not
   * exist. The engine confirms evacuations in batches through it when a driver has it, and otherwise polls getServer
   * per server (sim, libvirt: cheap calls, and the simulator's golden timings stay those of per-server polling).
   * observeServersOf() below is the same thing for any driver.
   */
  observeServers?(ids: string[], near: ObserveHint): Promise<Map<string, ServerInfo | null>>;
}

/** Where the servers to observe probably are: the host they are being evacuated from. */
export interface ObserveHint {
  host: string;
}

/** The driver's batched observeServers, or one getServer per server for drivers without it. */
export async function observeServersOf(driver: ComputeDriver, ids: string[], near: ObserveHint): Promise<Map<string, ServerInfo | null>> {
  if (driver.observeServers) return driver.observeServers(ids, near);
  return observeOneByOne(driver, ids);
}

/**
 * One getServer per server, `parallel` at a time; not_found -> null, any other failure fails the whole observation.
 */
export async function observeOneByOne(driver: Pick<ComputeDriver, 'getServer'>, ids: string[], parallel = 1): Promise<Map<string, ServerInfo | null>> {
  const out = new Map<string, ServerInfo | null>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        out.set(id, await driver.getServer(id));
      } catch (e) {
        if (!(e instanceof ComputeDriverError && e.code === 'not_found')) throw e;
        out.set(id, null);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, ids.length)) }, worker));
  return out;
}
