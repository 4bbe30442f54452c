// Polls the cluster membership driver and sends COMPUTE_HOST notifications for peers whose stable status changes.
// All judgement lives in decide.ts; this file only loops, logs and hands drafts to the outbox.

import { hostname as osHostname } from 'node:os';
import { AbortError, type Env } from '../../env.ts';
import type { Logger } from '../../log.ts';
import type { ClusterDriver } from '../../ports/cluster.ts';
import { monitorTimestamp, type NotificationSink } from '../../ports/notify.ts';
import type { Monitor } from '../types.ts';
import { decide, initialHostMonitorState, type DecideOptions, type DecideResult, type HostMonitorState } from './decide.ts';
import { loadHostMonitorState, saveHostMonitorState } from './state-file.ts';
import { errorMessage } from '../../errors.ts';
import { NO_COMPUTE_METRICS, type ComputeMetrics } from '../../observe/metric-set.ts';

export interface HostMonitorOptions extends Omit<DecideOptions, 'localNode'> {
  driver: ClusterDriver;
  intervalMs: number;
  /** This node's cluster name; default the OS hostname. */
  localNode?: string | null;
  sink: NotificationSink;
  env: Env;
  log: Logger;
  /** Where to keep what the monitor knows about its peers across restarts; null: memory only. */
  statePath?: string | null;
  metrics?: ComputeMetrics;
}

export class HostMonitor implements Monitor {
  readonly name = 'host';
  private state: HostMonitorState = initialHostMonitorState();
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly log: Logger;
  private lastSkip: string | null = null;
  private polls: Promise<unknown> = Promise.resolve();
  private savedText: string | null = null;
  /** When the last cluster sample was read (env ms); null before the first. */
  private lastSampleMs: number | null = null;

  private get metrics(): ComputeMetrics {
    return this.opts.metrics ?? NO_COMPUTE_METRICS;
  }

  reportMetrics(): void {
    if (this.lastSampleMs !== null) this.metrics.hostMonitorLastSampleAge.set(Math.max(0, (this.opts.env.nowMs() - this.lastSampleMs) / 1000));
  }
  /** The last cluster sample (for the heartbeat): quorate, this node seen online in it, when. */
  private lastSample: { quorate: boolean; node_seen: boolean; at: string } | null = null;
  private lastError: { reason: string; at: string } | null = null;

  constructor(private readonly opts: HostMonitorOptions) {
    this.log = opts.log.child({ component: 'host-monitor', driver: opts.driver.name });
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.restoreState();
    this.loop = this.run();
  }

  private restoreState(): void {
    if (!this.opts.statePath) return;
    try {
      const saved = loadHostMonitorState(this.opts.statePath);
      if (saved) {
        this.state = saved;
        this.log.info({ path: this.opts.statePath, peers: Object.keys(saved.peers) }, 'restored what was known about the peers');
      }
    } catch (e) {
      this.log.warn({ reason: errorMessage(e) }, 'ignoring the saved host monitor state: peers are learnt anew');
    }
  }

  private persistState(): void {
    if (!this.opts.statePath) return;
    const text = JSON.stringify(this.state);
    if (text === this.savedText) return; // most polls change nothing: no write
    try {
      saveHostMonitorState(this.opts.statePath, this.state);
      this.savedText = text;
    } catch (e) {
      this.log.error({ reason: errorMessage(e) }, 'cannot save the host monitor state');
    }
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.loop;
  }

  /** last_sample: {quorate, node_seen, at} of the last cluster snapshot; last_error when the last poll failed. */
  health(): Record<string, unknown> {
    return { last_sample: this.lastSample, last_error: this.lastError };
  }

  private decideOptions(): DecideOptions {
    return {
      localNode: this.opts.localNode || osHostname(),
      samples: this.opts.samples,
      restrictToRemotes: this.opts.restrictToRemotes,
      offlineWithoutFencing: this.opts.offlineWithoutFencing,
    };
  }

  private async run(): Promise<void> {
    const signal = this.stopCtl.signal;
    while (!signal.aborted) {
      try {
        await this.poll(signal);
      } catch (e) {
        if (signal.aborted) break;
        // Never let one bad answer end the loop (masakari-hostmonitor's loop could die with the process alive).
        this.log.warn({ reason: errorMessage(e) }, 'cannot read the cluster state; trying again next interval');
      }
      try {
        await this.opts.env.sleep(this.opts.intervalMs, signal);
      } catch (e) {
        if (e instanceof AbortError || signal.aborted) break;
        throw e;
      }
    }
  }

  /** One look at the cluster; returns what was decided (also used by tests). Polls never overlap. */
  poll(signal?: AbortSignal): Promise<DecideResult> {
    const p = this.polls.then(() => this.pollNow(signal));
    this.polls = p.catch(() => undefined);
    return p;
  }

  private async pollNow(signal?: AbortSignal): Promise<DecideResult> {
    let snap;
    try {
      snap = await this.opts.driver.snapshot(signal);
    } catch (e) {
      this.lastError = { reason: errorMessage(e), at: this.opts.env.now().toISOString() };
      throw e;
    }
    this.lastSampleMs = this.opts.env.nowMs();
    this.metrics.hostMonitorQuorate.set(snap.quorate ? 1 : 0);
    const local = this.decideOptions().localNode;
    const self = snap.nodes.find((n) => n.name === local);
    this.lastSample = { quorate: snap.quorate, node_seen: self !== undefined && self.online, at: snap.takenAt.toISOString() };
    this.lastError = null;
    const result = decide(this.state, snap, this.decideOptions());
    if (result.skipped) {
      if (this.lastSkip !== result.skipped) this.log.warn({ reason: result.skipped }, 'not acting on the cluster state');
      this.lastSkip = result.skipped;
      return result;
    }
    if (this.lastSkip) this.log.info('acting on the cluster state again');
    this.lastSkip = null;
    for (const r of result.reports) {
      const fields = { node: r.name, condition: r.condition, stable: r.stable, fencing: r.fencing, reported: r.reported };
      const before = this.state.peers[r.name]?.samples.at(-1);
      // Every change of a peer's condition is worth a line (an UNCLEAN peer waiting for fencing above all);
      // the same condition again is only debug noise.
      if (before !== undefined && before !== r.condition) {
        this.metrics.monitorEvents.inc({ monitor: this.name, kind: r.condition });
        this.log[r.condition === 'online' ? 'info' : 'warn']({ ...fields, was: before }, `${r.name}: ${r.reason}`);
      } else {
        this.log.debug(fields, r.reason);
      }
    }
    // The new state is kept only for nodes whose notification is safely queued: a failed submit is retried next poll.
    const next: HostMonitorState = { peers: { ...result.state.peers } };
    for (const n of result.notifications) {
      try {
        await this.opts.sink.submit({
          type: 'COMPUTE_HOST',
          hostname: n.hostname,
          generated_time: monitorTimestamp(this.opts.env.now()),
          payload: n.payload,
        });
        const report = result.reports.find((r) => r.name === n.hostname);
        this.log.info({ node: n.hostname, payload: n.payload }, report?.reason ?? 'host status changed');
      } catch (e) {
        this.log.error({ err: e, node: n.hostname }, 'cannot queue the host notification; will decide again next poll');
        const before = this.state.peers[n.hostname];
        if (before) next.peers[n.hostname] = before;
        else delete next.peers[n.hostname];
      }
    }
    this.state = next;
    this.persistState();
    return result;
  }
}
