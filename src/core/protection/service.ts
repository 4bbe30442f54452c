// The protection report: for every host and segment, protected or not, with every reason (evaluate.ts), from what
// the controller knows: stored heartbeats, fencing readiness, the mass-failure guard and the capacity verdict.
// The service also re-evaluates periodically, so that a change (a host going unprotected, or protected again) is
// logged ONCE, with its reasons, and published on the event bus as `protection.change`, whether or not anyone asks.

import type { Config } from '../config/schema.ts';
import type { Host, Segment } from '../domain/model.ts';
import { notFound } from '../domain/errors.ts';
import { failedHostsSince, massFailureVerdict } from '../engine/guards/mass-failure.ts';
import type { Env, Timer } from '../env.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { EventBus } from '../observe/bus.ts';
import type { AgentHeartbeat, StoredHeartbeat } from '../ports/heartbeat.ts';
import type { Store } from '../store/types.ts';
import { NO_CAPACITY_VERDICT, type CapacityVerdictProvider, type SegmentCapacityVerdict } from './capacity.ts';
import { evaluateHost, type HostVerdict } from './evaluate.ts';
import type { FencingReadiness } from './readiness.ts';

export interface HostReport extends HostVerdict {
  name: string;
  uuid: string;
  segment: string;
  segment_uuid: string;
}

export interface SegmentReport {
  name: string;
  uuid: string;
  protected: boolean;
  n_plus_one: boolean | null;
  breaking_hosts: string[];
  reasons: string[];
}

export interface ProtectionReport {
  generated_at: string;
  hosts: HostReport[];
  segments: SegmentReport[];
}

export interface ProtectionServiceDeps {
  store: Store;
  config: Config;
  env: Env;
  log: Logger;
  readiness?: FencingReadiness;
  capacity?: CapacityVerdictProvider;
  bus?: EventBus;
  /** Called with every full report (all segments), e.g. to set the protection gauges of the metrics. */
  onReport?: (report: ProtectionReport) => void;
}

const isUuidLike = (s: string) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s);

async function allSegments(store: Store): Promise<Segment[]> {
  const out: Segment[] = [];
  let marker: number | undefined;
  for (;;) {
    const page = await store.listSegments({ filters: {}, sort: [{ key: 'name', dir: 'asc' }], limit: 1000, ...(marker !== undefined ? { marker } : {}) });
    out.push(...page);
    if (page.length < 1000) return out;
    marker = page[page.length - 1]!.id;
  }
}

export class ProtectionService {
  private readonly log: Logger;
  /** host uuid -> what was last logged/published about it. */
  private readonly known = new Map<string, { protected: boolean; key: string }>();
  private timer: Timer | null = null;
  private running = false;

  constructor(private readonly d: ProtectionServiceDeps) {
    this.log = d.log.child({ component: 'protection' });
  }

  /** Stores an agent's heartbeat (POST /v1/x-masakari/heartbeats). */
  async acceptHeartbeat(hb: AgentHeartbeat): Promise<void> {
    await this.d.store.recordHeartbeat(hb, this.d.env.now());
  }

  listHeartbeats(): Promise<StoredHeartbeat[]> {
    return this.d.store.listHeartbeats();
  }

  /** How often the periodic evaluation runs: a third of the agent timeout, between 0.5 and 10 s. */
  evaluationIntervalMs(): number {
    const timeoutMs = (this.d.config.controller.agent_timeout ?? 3 * this.d.config.compute.heartbeat_interval) * 1000;
    return Math.min(10_000, Math.max(500, timeoutMs / 3));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops the periodic evaluation. A round in flight is not waited for: it only reads (the store, and through the
   * capacity verdict the compute backend, which may be the very thing that froze and made the operator stop us), and
   * its result is dropped. Waiting for it held the whole stop sequence past shutdown_timeout with Nova frozen.
   */
  stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    return Promise.resolve();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.d.env.setTimer(() => {
      void this.report()
        .catch((e: unknown) => {
          if (this.running) this.log.warn({ err: errorMessage(e) }, 'cannot evaluate protection; trying again');
        })
        .finally(() => this.schedule(this.evaluationIntervalMs()));
    }, ms);
  }

  /** Resolves `segment` (a name or uuid) to one segment, or 404. */
  private async findSegment(segment: string, segments: Segment[]): Promise<Segment> {
    const s = segments.find((x) => x.name === segment) ?? (isUuidLike(segment) ? await this.d.store.getSegment(segment) : undefined);
    if (!s) throw notFound(`No failover segment with name or id ${segment}.`);
    return s;
  }

  /** The report (GET /v1/x-masakari/protection); notes changes on the way (logged once, published). */
  async report(segment?: string): Promise<ProtectionReport> {
    const { store, env } = this.d;
    const now = env.now();
    const all = await allSegments(store);
    const segments = segment === undefined ? all : [await this.findSegment(segment, all)];
    const heartbeats = new Map((await store.listHeartbeats()).map((h) => [h.host, h]));
    const hostReports: HostReport[] = [];
    const segmentReports: SegmentReport[] = [];
    for (const seg of segments) {
      const hosts = (await store.listHostsOfSegment(seg.uuid)).sort((a, b) => a.name.localeCompare(b.name));
      const capacity = await this.capacityOf(seg, hosts);
      const paused = await this.massFailurePauses(seg, hosts, now);
      const reports = hosts.map((host) => this.hostReport(host, seg, heartbeats.get(host.name), now, paused.get(host.name) ?? null, capacity));
      hostReports.push(...reports);
      const unprotected = reports.filter((r) => !r.protected).map((r) => r.name);
      const reasons: string[] = [];
      if (!seg.enabled) reasons.push(`segment ${seg.name} is disabled: its host failures are not recovered`);
      if (hosts.length === 0) reasons.push('segment has no hosts');
      if (unprotected.length) reasons.push(`${unprotected.length} of ${hosts.length} hosts unprotected: ${unprotected.join(', ')}`);
      if (capacity.n_plus_one === false) {
        reasons.push(`the segment cannot absorb the loss of ${capacity.breaking_hosts.length ? capacity.breaking_hosts.join(', ') : 'one of its hosts'}`);
      }
      reasons.push(...capacity.reasons);
      segmentReports.push({
        name: seg.name,
        uuid: seg.uuid,
        protected: reasons.length === 0,
        n_plus_one: capacity.n_plus_one,
        breaking_hosts: capacity.breaking_hosts,
        reasons,
      });
    }
    this.noteChanges(hostReports, now);
    const report = { generated_at: now.toISOString(), hosts: hostReports, segments: segmentReports };
    if (segment === undefined) this.d.onReport?.(report);
    return report;
  }

  private hostReport(
    host: Host,
    seg: Segment,
    hb: StoredHeartbeat | undefined,
    now: Date,
    massFailurePause: string | null,
    capacity: SegmentCapacityVerdict,
  ): HostReport {
    const { config } = this.d;
    const readiness = this.d.readiness;
    const v = evaluateHost({
      host,
      segment: seg,
      heartbeat: hb,
      now,
      agentTimeoutMs: config.controller.agent_timeout === null ? null : config.controller.agent_timeout * 1000,
      fallbackIntervalMs: config.compute.heartbeat_interval * 1000,
      fencing: {
        required: config.host_failure.fencing_required,
        configured: readiness?.has(host.name) ?? Object.hasOwn(config.fencing.hosts, host.name),
        clusterEvidence: config.cluster_safety.pacemaker_evidence.enabled,
        readiness: readiness?.result(host.name),
      },
      massFailurePause,
      capacityReasons: capacity.host_reasons[host.name] ?? [],
    });
    return { name: host.name, uuid: host.uuid, segment: seg.name, segment_uuid: seg.uuid, ...v };
  }

  private async capacityOf(seg: Segment, hosts: Host[]): Promise<SegmentCapacityVerdict> {
    if (!this.d.capacity) return NO_CAPACITY_VERDICT;
    try {
      return await this.d.capacity.segmentVerdict(seg, hosts);
    } catch (e) {
      return { ...NO_CAPACITY_VERDICT, reasons: [`capacity could not be computed: ${errorMessage(e)}`] };
    }
  }

  /** Host name -> the guard's reason, for each host whose failure now would be paused by the mass-failure guard. */
  private async massFailurePauses(seg: Segment, hosts: Host[], now: Date): Promise<Map<string, string>> {
    const cfg = this.d.config.cluster_safety.mass_failure;
    const out = new Map<string, string>();
    if (!cfg.enabled || hosts.length === 0) return out;
    const failed = await failedHostsSince(this.d.store, new Map(hosts.map((h) => [h.uuid, h.name])), now, cfg.window_seconds * 1000);
    if (failed.length === 0) return out;
    for (const h of hosts) {
      if (failed.includes(h.name)) continue; // already failed: its own recovery is judged by the engine
      const v = massFailureVerdict({
        segmentName: seg.name,
        segmentHosts: hosts.map((x) => x.name),
        failedHosts: [...failed, h.name],
        maxFailedShare: cfg.max_failed_share,
        minFailedHosts: cfg.min_failed_hosts,
        windowSeconds: cfg.window_seconds,
      });
      if (v.paused) out.set(h.name, `if this host failed now, ${v.reason.charAt(0).toLowerCase()}${v.reason.slice(1)}`);
    }
    return out;
  }

  /** Logs and publishes each host whose protection changed since the last evaluation (once per change). */
  private noteChanges(hosts: HostReport[], now: Date): void {
    for (const h of hosts) {
      // Reasons carry times and ages that change every evaluation ("no heartbeat for 12.3 s"): compare their kinds.
      const key = h.reasons.map((r) => r.replace(/\d[\d.:TZ-]*( s)?/g, '#')).join('\n');
      const before = this.known.get(h.uuid);
      if (before && before.protected === h.protected && before.key === key) continue;
      this.known.set(h.uuid, { protected: h.protected, key });
      if (!before && h.protected) continue; // first sight of a protected host: nothing to tell
      const fields = { host: h.name, segment: h.segment, protected: h.protected, reasons: h.reasons, was: before ? before.protected : null };
      if (h.protected) this.log.info(fields, `host ${h.name} is protected again`);
      else this.log.warn(fields, `host ${h.name} is NOT protected: ${h.reasons.join('; ')}`);
      this.d.bus?.publish('protection.change', { host: h.name, segment: h.segment, protected: h.protected, reasons: h.reasons }, now);
    }
  }
}
