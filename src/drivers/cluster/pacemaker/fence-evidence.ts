// Fence evidence from Pacemaker's own fencing history (crm_mon --fence-history): the cluster fenced the failed node,
// so nothing it ran can still write to shared storage. A FenceGate (src/core/ports/fence.ts) for the engine's
// safety gate; src/roles/backends.ts puts it before any fencer of our own (cluster_safety.pacemaker_evidence).
//
// Evidence means all of:
//  * the crm_mon view comes from a partition with quorum (an isolated node's view of its peers means nothing);
//  * the node is a known member, is not UNCLEAN (UNCLEAN = failed and not yet fenced) and is not online again;
//  * no fencing of it is pending (a new failure whose fencing is under way);
//  * the newest finished fencing of it succeeded, with action off or reboot (not "on");
//  * it completed after the failure being recovered (the notification's generated_time), less a tolerance: a fencing
//    from before the failure belongs to an earlier failure of the same node (fenced, back, failed again) and proves
//    nothing about this one. The tolerance is needed because the fencing of THIS failure normally completes before
//    generated_time: the host monitor reports a Pacemaker node only once it is fenced, up to one poll later, and its
//    clock is not the cluster's;
//  * and it completed at most max-age ago (a bound on how stale the evidence may be when the engine retries).
// Anything else is "not fenced" with the reason, which the workflow writes into the notification.

import type { ClusterDriver, ClusterSnapshot, FenceEvent } from '../../../core/ports/cluster.ts';
import type { FenceEvidence, FenceGate } from '../../../core/ports/fence.ts';
import { errorMessage } from '../../../core/errors.ts';

export const PACEMAKER_SOURCE = 'pacemaker';

export interface EvidenceOptions {
  /** When the failure was reported (the notification's generated_time). */
  failedAt: Date;
  /** A fencing that completed up to this long (ms) before `failedAt` still counts (report delay, clock skew). */
  failureToleranceMs: number;
  /** A successful fencing older than this (ms before `now`) is not evidence. */
  maxAgeMs: number;
  now: Date;
}

/** crm_mon prints "2026-11-22 04:36:40Z" (2.1); older versions a ctime-like "Sun Nov 22 04:36:40 2026". */
export function parseFenceTime(text: string | null): Date | null {
  if (!text) return null;
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text) ? text.replace(' ', 'T') : text;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms);
}

const describe = (e: FenceEvent) =>
  `action ${e.action || '?'}, completed ${e.completed ?? '?'}` +
  `${e.delegate ? `, executed by ${e.delegate}` : ''}${e.origin ? `, requested by ${e.origin}` : ''}`;

const seconds = (ms: number) => Math.round(ms / 1000);

const notFenced = (reason: string): FenceEvidence => ({ fenced: false, source: PACEMAKER_SOURCE, reason });

/** The pure judgement: what one crm_mon snapshot proves about `host`. */
export function fenceEvidenceFrom(snap: ClusterSnapshot, host: string, opts: EvidenceOptions): FenceEvidence {
  if (!snap.quorate) return notFenced(`the Pacemaker partition crm_mon ran in has no quorum: its view of '${host}' cannot be trusted`);
  if (snap.fenceHistory === null) {
    return notFenced('crm_mon printed no fence history (run it with --fence-history=2 or more; a saved CIB has none)');
  }
  const node = snap.nodes.find((n) => n.name === host);
  if (!node) return notFenced(`'${host}' is not a node of the Pacemaker cluster`);
  const events = snap.fenceHistory.filter((e) => e.target === host);
  const pending = events.find((e) => e.status === 'pending');
  if (pending)
    return notFenced(
      `Pacemaker's fencing of '${host}' is still pending (action ${pending.action || '?'}${pending.origin ? `, requested by ${pending.origin}` : ''})`,
    );
  if (node.unclean) return notFenced(`'${host}' is UNCLEAN in Pacemaker: it failed and is not fenced yet`);
  // Up again (rebooted by a `reboot` fencing, or powered on): whatever fenced it before, it runs now, and may have
  // restarted its VMs (nova's resume_guests_state_on_host_boot, libvirt autostart). A running host is not evacuated.
  if (node.online) return notFenced(`'${host}' is online in the Pacemaker cluster: a running host is not evacuated`);
  // Newest first by completion time; crm_mon already lists newest first, which breaks ties (and orders undated ones).
  const finished = events
    .map((e, i) => ({ e, i, t: parseFenceTime(e.completed)?.getTime() ?? -Infinity }))
    .filter((x) => x.e.status !== 'pending')
    .sort((a, b) => b.t - a.t || a.i - b.i);
  const last = finished[0];
  if (!last) return notFenced(`Pacemaker has no record of fencing '${host}'`);
  if (last.e.status !== 'success') return notFenced(`Pacemaker's last fencing of '${host}' did not succeed (${last.e.status}; ${describe(last.e)})`);
  if (last.e.action !== 'off' && last.e.action !== 'reboot') {
    return notFenced(`Pacemaker's last fencing action on '${host}' was '${last.e.action}', which does not power it off`);
  }
  if (last.t === -Infinity) return notFenced(`Pacemaker's last fencing of '${host}' has no readable completion time ('${last.e.completed ?? ''}')`);
  // An unreadable failure time would make the comparison below false, i.e. accept anything: refuse instead.
  if (Number.isNaN(opts.failedAt.getTime())) return notFenced(`the failure of '${host}' has no valid time to judge Pacemaker's fencing against`);
  const beforeFailureMs = opts.failedAt.getTime() - last.t;
  if (beforeFailureMs > opts.failureToleranceMs) {
    return notFenced(
      `Pacemaker's last successful fencing of '${host}' completed ${last.e.completed}, ` +
        `${seconds(beforeFailureMs)} s before the failure reported at ${opts.failedAt.toISOString()} ` +
        `(more than the ${seconds(opts.failureToleranceMs)} s allowed for report delay and clock skew): ` +
        `it belongs to an earlier failure, so it is not evidence for this one`,
    );
  }
  const ageMs = opts.now.getTime() - last.t;
  if (ageMs > opts.maxAgeMs) {
    return notFenced(
      `Pacemaker's last successful fencing of '${host}' completed ${last.e.completed}, ${seconds(ageMs)} s ago: ` +
        `older than ${seconds(opts.maxAgeMs)} s, so not evidence for this failure`,
    );
  }
  return { fenced: true, source: PACEMAKER_SOURCE, evidence: `Pacemaker fenced '${host}' (${describe(last.e)})` };
}

export interface PacemakerFenceGateOptions {
  driver: ClusterDriver;
  failureToleranceMs: number;
  maxAgeMs: number;
  now?: () => Date;
}

/** Reads crm_mon once per question; a failing crm_mon is "no evidence", with its error as the reason. */
export function pacemakerFenceGate(o: PacemakerFenceGateOptions): FenceGate {
  const now = o.now ?? (() => new Date());
  return {
    async confirmFenced(host, { failedAt, signal }) {
      let snap: ClusterSnapshot;
      try {
        snap = await o.driver.snapshot(signal);
      } catch (e) {
        return notFenced(`cannot read Pacemaker's fence history: ${errorMessage(e)}`);
      }
      return fenceEvidenceFrom(snap, host, { failedAt, failureToleranceMs: o.failureToleranceMs, maxAgeMs: o.maxAgeMs, now: now() });
    },
  };
}
