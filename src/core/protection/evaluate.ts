// Is one host protected right now? A pure function of what the controller knows: the host and its segment, the
// agent's last heartbeat, the fencer's readiness, the mass-failure guard and the capacity verdict. Every reason
// that makes a host unprotected, and every warning, is a sentence an operator can act on; docs/protection.md
// explains each one and what to do about it.

import type { Host, Segment } from '../domain/model.ts';
import type { StoredHeartbeat } from '../ports/heartbeat.ts';
import type { ReadinessResult } from './readiness.ts';

export type FencingState = 'ok' | 'unreachable' | 'auth_failed' | 'unknown_power_state' | 'not_configured' | 'disabled';

export interface HostInputs {
  host: Host;
  segment: Segment;
  heartbeat: StoredHeartbeat | undefined;
  now: Date;
  /** controller.agent_timeout in ms, or null: 3 x the interval the agent announces (fallbackIntervalMs before any). */
  agentTimeoutMs: number | null;
  fallbackIntervalMs: number;
  fencing: {
    /** host_failure.fencing_required */
    required: boolean;
    /** The host has a fencer in fencing.hosts. */
    configured: boolean;
    /** cluster_safety.pacemaker_evidence.enabled: Pacemaker's fence history may prove the fencing instead. */
    clusterEvidence: boolean;
    readiness: ReadinessResult | undefined;
  };
  /** The mass-failure guard would pause this host's recovery now: its reason; null otherwise. */
  massFailurePause: string | null;
  /** From the capacity verdict (N instances would not fit...). */
  capacityReasons: string[];
}

export interface AgentView {
  last_seen: string | null;
  silent: boolean;
  version: string | null;
  monitors: Record<string, Record<string, unknown>>;
  outbox: StoredHeartbeat['heartbeat']['outbox'] | null;
}

export interface HostVerdict {
  protected: boolean;
  reasons: string[];
  warnings: string[];
  agent: AgentView | null;
  fencing: { state: FencingState; checked_at: string | null; detail: string | null };
}

const iso = (d: Date) => d.toISOString();
const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** The agent timeout that applies to this heartbeat. */
export function agentTimeoutOf(hb: StoredHeartbeat | undefined, agentTimeoutMs: number | null, fallbackIntervalMs: number): number {
  if (agentTimeoutMs !== null) return agentTimeoutMs;
  const announced = hb?.heartbeat.interval_seconds;
  return 3 * (typeof announced === 'number' && announced > 0 ? announced * 1000 : fallbackIntervalMs);
}

function agentFindings(i: HostInputs, reasons: string[], warnings: string[]): AgentView | null {
  const hb = i.heartbeat;
  if (!hb) {
    reasons.push('no heartbeat ever received from the compute agent of this host (agent not running, or not a masakari agent)');
    return null;
  }
  const timeout = agentTimeoutOf(hb, i.agentTimeoutMs, i.fallbackIntervalMs);
  const age = i.now.getTime() - hb.receivedAt.getTime();
  const silent = age > timeout;
  const view: AgentView = {
    last_seen: iso(hb.receivedAt),
    silent,
    version: hb.heartbeat.version,
    monitors: hb.heartbeat.monitors,
    outbox: hb.heartbeat.outbox,
  };
  if (silent) {
    // What it said last is stale: only silence is reported.
    reasons.push(`agent silent since ${iso(hb.receivedAt)} (no heartbeat for ${secs(age)}, agent_timeout ${secs(timeout)})`);
    return view;
  }
  const m = hb.heartbeat.monitors;
  const libvirt = obj(obj(m.instance)?.libvirt);
  if (libvirt && libvirt.connected === false) {
    const why = typeof libvirt.reason === 'string' ? `: ${libvirt.reason}` : '';
    reasons.push(`instance monitor disconnected from libvirt since ${String(libvirt.since)}${why}`);
  }
  const host = obj(m.host);
  const sample = obj(host?.last_sample);
  if (sample && sample.quorate === false) reasons.push(`host monitor without quorum (cluster sample at ${String(sample.at)})`);
  if (host && !sample) warnings.push('host monitor has no cluster sample yet');
  const hostErr = obj(host?.last_error);
  if (hostErr) warnings.push(`host monitor cannot read the cluster state: ${String(hostErr.reason)}`);
  const watched = obj(m.process)?.watched;
  if (Array.isArray(watched)) {
    const givenUp = watched.map(obj).filter((p) => p?.given_up === true);
    if (givenUp.length) warnings.push(`process monitor gave up restarting: ${givenUp.map((p) => String(p!.name)).join(', ')}`);
  }
  const ob = hb.heartbeat.outbox;
  const intervalMs = (hb.heartbeat.interval_seconds || i.fallbackIntervalMs / 1000) * 1000;
  if (ob.pending > 0 && ob.oldest_pending_age_seconds !== null && ob.oldest_pending_age_seconds * 1000 > 2 * intervalMs) {
    warnings.push(`${ob.pending} notification(s) not yet delivered by the agent, the oldest for ${Math.round(ob.oldest_pending_age_seconds)} s`);
  }
  if (ob.rejected > 0) warnings.push(`${ob.rejected} notification(s) refused by the controller are parked in the agent's outbox (masakari monitors outbox)`);
  return view;
}

function fencingFindings(i: HostInputs, reasons: string[], warnings: string[]): HostVerdict['fencing'] {
  const f = i.fencing;
  const r = f.readiness;
  if (!f.required) {
    warnings.push('fencing is switched off (host_failure.fencing_required: false): VMs may start elsewhere while this host still runs them');
    return { state: 'disabled', checked_at: r ? iso(r.checkedAt) : null, detail: r?.detail ?? null };
  }
  if (!f.configured) {
    if (f.clusterEvidence) {
      warnings.push("fencing relies on Pacemaker's fence history (cluster_safety.pacemaker_evidence); no fencer of ours to check");
    } else {
      reasons.push('no fencer: the host has no entry in fencing.hosts and host_failure.fencing_required is true');
    }
    return { state: 'not_configured', checked_at: null, detail: null };
  }
  if (!r) {
    warnings.push('fencer not checked yet');
    return { state: 'unknown_power_state', checked_at: null, detail: 'not checked yet' };
  }
  const at = iso(r.checkedAt);
  const also = f.clusterEvidence ? " (Pacemaker's fence history may still prove a fencing)" : '';
  const unless = (text: string) => (f.clusterEvidence ? warnings : reasons).push(text + also);
  switch (r.state) {
    case 'ok':
      break;
    case 'auth_failed':
      unless(`BMC auth failed at ${at}: ${r.detail ?? 'credentials refused'}`);
      break;
    case 'unreachable':
      unless(`BMC unreachable at ${at}: ${r.detail ?? 'no answer'}`);
      break;
    case 'unknown_power_state':
      unless(`BMC answered without a known power state at ${at}: ${r.detail ?? ''}`);
      break;
  }
  return { state: r.state, checked_at: at, detail: r.detail };
}

export function evaluateHost(i: HostInputs): HostVerdict {
  const reasons: string[] = [];
  const warnings: string[] = [];
  if (!i.segment.enabled) reasons.push(`segment ${i.segment.name} is disabled: its host failures are not recovered`);
  if (i.host.onMaintenance) reasons.push('host on maintenance: notifications about it are refused');
  const agent = agentFindings(i, reasons, warnings);
  const fencing = fencingFindings(i, reasons, warnings);
  if (i.massFailurePause) reasons.push(`mass-failure guard paused: ${i.massFailurePause}`);
  reasons.push(...i.capacityReasons);
  return { protected: reasons.length === 0, reasons, warnings, agent, fencing };
}
