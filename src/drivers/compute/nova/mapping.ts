// Nova's JSON -> the port's types, and OpenStack client errors -> ComputeDriverError codes. Pure functions: the
// shapes are checked here once, so the driver never trusts a field it did not validate.

import {
  ComputeDriverError,
  type Aggregate,
  type ComputeService,
  type EvacuationRecord,
  type Resources,
  type ServerInfo,
  type VmState,
} from '../../../core/ports/compute.ts';
import { faultMessage, OpenStackError } from '../../openstack/errors.ts';
import type { OsResponse } from '../../openstack/http.ts';
import { maskUrlCredentials } from '../../../core/mask.ts';
import { errorMessage } from '../../../core/errors.ts';

const VM_STATES: ReadonlySet<string> = new Set<VmState>([
  'active',
  'building',
  'paused',
  'suspended',
  'stopped',
  'rescued',
  'resized',
  'soft-delete',
  'deleted',
  'error',
  'shelved',
  'shelved_offloaded',
]);

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(what: string): never {
  throw new ComputeDriverError('unknown', `Nova answered with an unexpected ${what}`);
}

export function toServerInfo(s: unknown): ServerInfo {
  if (!isObj(s) || typeof s.id !== 'string') bad('server (no id)');
  const vm = s['OS-EXT-STS:vm_state'];
  if (typeof vm !== 'string' || !VM_STATES.has(vm)) {
    // OS-EXT-STS is admin-only: missing means the service user lacks the admin role.
    bad(`vm_state ${JSON.stringify(vm)} for server ${s.id} (does the service user have the admin role?)`);
  }
  const metadata: Record<string, string> = {};
  if (isObj(s.metadata)) for (const [k, v] of Object.entries(s.metadata)) if (typeof v === 'string') metadata[k] = v;
  const host = s['OS-EXT-SRV-ATTR:host'];
  const task = s['OS-EXT-STS:task_state'];
  const power = s['OS-EXT-STS:power_state'];
  const resources = flavorResources(s.flavor);
  return {
    id: s.id,
    name: typeof s.name === 'string' ? s.name : '',
    host: typeof host === 'string' && host !== '' ? host : null,
    vmState: vm as VmState,
    taskState: typeof task === 'string' ? task : null,
    powerState: typeof power === 'number' ? power : 0,
    metadata,
    locked: s.locked === true,
    ...(resources ? { resources } : {}),
  };
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * The server's embedded flavor (microversion 2.47+) as what it takes on a host, counted as Placement counts it:
 * DISK_GB is root + ephemeral + swap (swap is in MB). undefined when the flavor is not embedded.
 */
export function flavorResources(f: unknown): Resources | undefined {
  if (!isObj(f) || typeof f.vcpus !== 'number' || typeof f.ram !== 'number') return undefined;
  return { vcpus: f.vcpus, ramMb: f.ram, diskGb: num(f.disk) + num(f.ephemeral) + Math.ceil(num(f.swap) / 1024) };
}

const PLACEMENT_CLASSES = { vcpus: 'VCPU', ramMb: 'MEMORY_MB', diskGb: 'DISK_GB' } as const;

/** Placement's inventories -> what may be allocated: (total - reserved) x allocation_ratio per class. */
export function capacityFromInventories(body: unknown): Resources {
  const inv = isObj(body) && isObj(body.inventories) ? body.inventories : bad('inventories');
  const cap = (cls: string) => {
    const r = inv[cls];
    if (!isObj(r)) return 0;
    return Math.floor((num(r.total) - num(r.reserved)) * (typeof r.allocation_ratio === 'number' ? r.allocation_ratio : 1));
  };
  return { vcpus: cap(PLACEMENT_CLASSES.vcpus), ramMb: cap(PLACEMENT_CLASSES.ramMb), diskGb: cap(PLACEMENT_CLASSES.diskGb) };
}

/** Placement's usages -> what servers hold now. */
export function usedFromUsages(body: unknown): Resources {
  const u = isObj(body) && isObj(body.usages) ? body.usages : bad('usages');
  return { vcpus: num(u[PLACEMENT_CLASSES.vcpus]), ramMb: num(u[PLACEMENT_CLASSES.ramMb]), diskGb: num(u[PLACEMENT_CLASSES.diskGb]) };
}

export function toComputeService(s: unknown): ComputeService {
  if (!isObj(s) || (typeof s.id !== 'string' && typeof s.id !== 'number') || typeof s.host !== 'string') bad('service');
  return {
    id: String(s.id),
    host: s.host,
    binary: typeof s.binary === 'string' ? s.binary : 'nova-compute',
    status: s.status === 'disabled' ? 'disabled' : 'enabled',
    state: s.state === 'up' ? 'up' : 'down',
    forcedDown: s.forced_down === true,
    disabledReason: typeof s.disabled_reason === 'string' ? s.disabled_reason : null,
  };
}

// Nova's migration statuses for evacuations: accepted (API), pre-migrating (destination compute), done (moved),
// completed (the source cleaned up after it came back), failed (rebuild failed), error (no valid host).
const EVACUATION_FINISHED = new Set(['done', 'completed']);
const EVACUATION_FAILED = new Set(['failed', 'error', 'cancelled']);

export function toEvacuationRecord(m: unknown): EvacuationRecord {
  if (!isObj(m) || typeof m.status !== 'string') bad('migration');
  const status = m.status.toLowerCase();
  // Nova's created_at has no zone and is UTC.
  const created = typeof m.created_at === 'string' ? Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(m.created_at) ? m.created_at : `${m.created_at}Z`) : NaN;
  return {
    // Anything else (accepted, pre-migrating, migrating, ...) may still move the server.
    status: EVACUATION_FINISHED.has(status) ? 'done' : EVACUATION_FAILED.has(status) ? 'failed' : 'in_progress',
    createdAt: Number.isNaN(created) ? null : new Date(created),
    destHost: typeof m.dest_compute === 'string' ? m.dest_compute : null,
  };
}

export function toAggregate(a: unknown): Aggregate {
  if (!isObj(a) || (typeof a.id !== 'number' && typeof a.id !== 'string')) bad('aggregate');
  return {
    id: String(a.id),
    name: typeof a.name === 'string' ? a.name : '',
    hosts: Array.isArray(a.hosts) ? a.hosts.filter((h): h is string => typeof h === 'string') : [],
  };
}

// Nova answers 400 (not 409) for these, but they are state conflicts that clear by themselves: the source
// compute is not down yet, or the target compute is disabled/down right now. The engine waits and retries them.
const STATE_CONFLICT_400 = [/is still in use/i, /is unavailable at this time/i];

/** A ComputeDriverError for a Nova answer that is not a success. */
export function errorFromResponse(op: string, res: OsResponse): ComputeDriverError {
  const msg = faultMessage(res.body) ?? `HTTP ${res.status}`;
  const text = `${op}: ${msg} (HTTP ${res.status}${res.requestId ? `, request ${res.requestId}` : ''})`;
  const s = res.status;
  if (s === 404) return new ComputeDriverError('not_found', text);
  if (s === 409) return new ComputeDriverError('conflict', text);
  if (s === 400) return new ComputeDriverError(STATE_CONFLICT_400.some((r) => r.test(msg)) ? 'conflict' : 'bad_request', text);
  if (s === 406 || s === 501) return new ComputeDriverError('unsupported', text);
  if (s >= 500) return new ComputeDriverError('unavailable', text);
  return new ComputeDriverError('unknown', text);
}

/** A ComputeDriverError for a failure of the client itself (network, timeout, Keystone, catalog, microversion). */
export function errorFromClient(op: string, e: unknown): ComputeDriverError {
  if (e instanceof ComputeDriverError) return e;
  // The message may quote a URL of the configuration (a Keystone auth_url...): it reaches the notification's
  // progress, the API and the logs, never with the URL's password.
  if (!(e instanceof OpenStackError)) return new ComputeDriverError('unknown', maskUrlCredentials(`${op}: ${errorMessage(e)}`));
  const text = maskUrlCredentials(`${op}: ${e.message}`);
  switch (e.code) {
    case 'timeout':
      return new ComputeDriverError('timeout', text);
    case 'connection':
      return new ComputeDriverError('unavailable', text);
    case 'http':
      return new ComputeDriverError(e.status !== null && e.status >= 500 ? 'unavailable' : 'unknown', text);
    case 'microversion':
      return new ComputeDriverError('unsupported', text);
    default:
      return new ComputeDriverError('unknown', text);
  }
}
