// The host monitor's whole judgement as one pure function: (what we remembered, a new cluster snapshot) ->
// (what to remember, what to report, which notifications to send). No I/O, no clock: easy to test with the real
// crm_mon outputs in sequence, and the same logic backs `masakari monitors host --once`.
//
// Rules (docs/compute.md explains them to operators):
// * Nothing is decided without quorum or in cluster-wide maintenance mode: an isolated node sees its healthy peers
//   as failed (Masakari LP#1878548).
// * A status must be the same in `samples` consecutive snapshots before it counts (a fenced remote node can look
//   online for a few seconds while Pacemaker reconnects).
// * The first time a peer is seen, its status is only remembered (like masakari-hostmonitor): no notification.
// * online after offline -> STARTED/ONLINE/NORMAL.
// * offline after online -> STOPPED/OFFLINE with host_status NORMAL only when the cluster fenced the node after we
//   last saw it up (a successful fence event that was not in its history back then). A node that merely left the
//   cluster (clean shutdown, corosync stopped) may still run its VMs: host_status is then UNKNOWN (the engine
//   ignores it), unless configured otherwise.
// * UNCLEAN (failed, fencing pending or failed) is not "down and safe": nothing is sent until fencing completes.

import type { ClusterNode, ClusterSnapshot, FenceEvent } from '../../ports/cluster.ts';
import { hostStartedPayload, hostStoppedPayload, type HostStatus } from './payloads.ts';

/** What one snapshot says about a node, in the monitor's terms. */
export type NodeCondition = 'online' | 'offline' | 'unclean' | 'joining' | 'leaving' | 'maintenance';
export type StableCondition = NodeCondition | '_being_collected' | '_uncertain';
/** The last status acted upon (Masakari's "old status"): only these two lead to notifications. */
export type ReportedStatus = 'online' | 'offline';
export type FencingState = 'confirmed' | 'pending' | 'failed' | 'none' | 'unknown';

export interface PeerMemory {
  samples: NodeCondition[];
  reported: ReportedStatus | null;
  /** Keys of successful fence events already in the history when the node was last seen up (null: no history then). */
  fenceKeysWhileUp: string[] | null;
}

export interface HostMonitorState {
  peers: Record<string, PeerMemory>;
}

export const initialHostMonitorState = (): HostMonitorState => ({ peers: {} });

export interface DecideOptions {
  /** This node's own name in the cluster: never reported on (it cannot report its own death). */
  localNode: string | null;
  /** Consecutive identical samples needed (masakari's monitoring_samples, >= 1). */
  samples: number;
  /** Only watch Pacemaker remote nodes (masakari's restrict_to_remotes). */
  restrictToRemotes: boolean;
  /** host_status for a node that went offline without a fencing we can see. */
  offlineWithoutFencing: HostStatus;
}

export interface HostNotification {
  hostname: string;
  payload: Record<string, string>;
}

export interface NodeReport {
  name: string;
  type: ClusterNode['type'];
  condition: NodeCondition;
  stable: StableCondition;
  fencing: FencingState;
  /** Status remembered after this snapshot. */
  reported: ReportedStatus | null;
  notification: HostNotification | null;
  /** One sentence for logs and `monitors host --once`. */
  reason: string;
}

export interface DecideResult {
  state: HostMonitorState;
  reports: NodeReport[];
  notifications: HostNotification[];
  /** Set when the snapshot as a whole was not acted on (no quorum, maintenance mode). */
  skipped: string | null;
}

export function conditionOf(node: ClusterNode): NodeCondition {
  if (node.maintenance) return 'maintenance';
  if (node.unclean) return 'unclean';
  if (node.online && node.pending) return 'joining';
  if (node.online && node.shuttingDown) return 'leaving';
  return node.online ? 'online' : 'offline';
}

const isUp = (c: NodeCondition) => c === 'online' || c === 'joining' || c === 'leaving';

const fenceKey = (e: FenceEvent) => `${e.action}|${e.completed ?? ''}|${e.origin ?? ''}|${e.delegate ?? ''}`;

function successKeys(history: FenceEvent[] | null, target: string): string[] | null {
  if (history === null) return null;
  return history.filter((e) => e.target === target && e.status === 'success').map(fenceKey);
}

/** Whether the cluster fenced `target` since we last saw it up. History is newest first. */
export function fencingOf(history: FenceEvent[] | null, target: string, keysWhileUp: string[] | null): FencingState {
  if (history === null) return 'unknown';
  const events = history.filter((e) => e.target === target);
  if (events.some((e) => e.status === 'pending')) return 'pending';
  const known = new Set(keysWhileUp ?? []);
  const fresh = events.filter((e) => e.status === 'success' && !known.has(fenceKey(e)));
  // Without a baseline we cannot tell an old fencing from a new one.
  if (fresh.length > 0) return keysWhileUp === null ? 'unknown' : 'confirmed';
  if (events[0]?.status === 'failed') return 'failed';
  return 'none';
}

function stableOf(samples: NodeCondition[], needed: number): StableCondition {
  if (samples.length < needed) return '_being_collected';
  const first = samples[0]!;
  return samples.every((s) => s === first) ? first : '_uncertain';
}

/** The status a peer seen for the first time is taken to have (unclean: it was a member until it failed). */
function firstReported(c: NodeCondition): ReportedStatus | null {
  if (c === 'offline') return 'offline';
  if (c === 'maintenance') return null;
  return 'online';
}

export function decide(prev: HostMonitorState, snap: ClusterSnapshot, opts: DecideOptions): DecideResult {
  const needed = Math.max(1, Math.floor(opts.samples));
  const watched = snap.nodes.filter((n) => n.name !== opts.localNode && (!opts.restrictToRemotes || n.type === 'remote'));

  const skipped = !snap.quorate
    ? 'this node has no quorum: its view of the peers cannot be trusted, nothing is decided'
    : snap.maintenanceMode
      ? 'the cluster is in maintenance mode: nothing is decided'
      : null;
  if (skipped) {
    const reports = watched.map((n): NodeReport => {
      const mem = prev.peers[n.name];
      return {
        name: n.name,
        type: n.type,
        condition: conditionOf(n),
        stable: '_uncertain',
        fencing: fencingOf(snap.fenceHistory, n.name, mem?.fenceKeysWhileUp ?? null),
        reported: mem?.reported ?? null,
        notification: null,
        reason: skipped,
      };
    });
    return { state: prev, reports, notifications: [], skipped };
  }

  const peers: Record<string, PeerMemory> = {};
  const reports: NodeReport[] = [];
  const notifications: HostNotification[] = [];

  for (const node of watched) {
    const condition = conditionOf(node);
    const old = prev.peers[node.name];
    const keysNow = successKeys(snap.fenceHistory, node.name);

    if (!old) {
      const mem: PeerMemory = { samples: [condition], reported: firstReported(condition), fenceKeysWhileUp: keysNow };
      peers[node.name] = mem;
      reports.push({
        name: node.name,
        type: node.type,
        condition,
        stable: stableOf(mem.samples, needed),
        fencing: fencingOf(snap.fenceHistory, node.name, keysNow),
        reported: mem.reported,
        notification: null,
        reason: `new member of the cluster, status ${condition}: remembered, nothing sent`,
      });
      continue;
    }

    const samples = [...old.samples, condition].slice(-needed);
    const stable = stableOf(samples, needed);
    const fencing = fencingOf(snap.fenceHistory, node.name, old.fenceKeysWhileUp);
    let reported = old.reported;
    let notification: HostNotification | null = null;
    let reason: string;

    if (stable === '_being_collected' || stable === '_uncertain') {
      reason = stable === '_uncertain' ? `status not stable over ${needed} samples` : 'collecting samples';
    } else if (reported === null) {
      reported = stable === 'offline' ? 'offline' : isUp(stable) ? 'online' : null;
      reason = `status ${stable} remembered (no earlier status to compare with)`;
    } else if (stable === 'online' && reported === 'offline') {
      notification = { hostname: node.name, payload: hostStartedPayload() };
      reported = 'online';
      reason = 'came back online';
    } else if (stable === 'offline' && reported === 'online') {
      if (fencing === 'pending') {
        reason = 'offline but its fencing is still pending: waiting';
      } else {
        const hostStatus: HostStatus = fencing === 'confirmed' ? 'NORMAL' : opts.offlineWithoutFencing;
        notification = { hostname: node.name, payload: hostStoppedPayload(hostStatus) };
        reported = 'offline';
        reason =
          fencing === 'confirmed'
            ? 'offline and fenced by the cluster: down and safe to recover'
            : `offline without a fencing we can see (fencing: ${fencing}): host_status ${hostStatus}`;
      }
    } else if (stable === 'unclean') {
      reason = `UNCLEAN (fencing ${fencing}): not known to be down, waiting for the cluster to fence it`;
    } else if (stable === 'maintenance') {
      reason = 'in maintenance: not watched';
    } else {
      reason = `status ${stable}, last reported ${reported}: nothing to send`;
    }

    peers[node.name] = {
      samples,
      reported,
      // Refresh the baseline whenever the node is seen up, so that only fencing after this moment counts.
      fenceKeysWhileUp: isUp(condition) ? keysNow : old.fenceKeysWhileUp,
    };
    if (notification) notifications.push(notification);
    reports.push({ name: node.name, type: node.type, condition, stable, fencing, reported, notification, reason });
  }

  return { state: { peers }, reports, notifications, skipped: null };
}

/**
 * One-snapshot preview for `monitors host --once`: every peer is assumed to have been reported in the opposite
 * state and last seen up before every fence event now in the history, so the result is the notification the
 * monitor would send if this snapshot's state were new.
 */
export function previewSnapshot(snap: ClusterSnapshot, opts: DecideOptions): DecideResult {
  const peers: Record<string, PeerMemory> = {};
  for (const n of snap.nodes) {
    const c = conditionOf(n);
    peers[n.name] = { samples: [], reported: c === 'offline' ? 'online' : c === 'online' ? 'offline' : 'online', fenceKeysWhileUp: [] };
  }
  const result = decide({ peers }, snap, { ...opts, samples: 1 });
  const reports = result.reports.map((r) => (r.notification ? { ...r, reason: `if this state is new: ${r.reason}` } : r));
  return { ...result, reports };
}
