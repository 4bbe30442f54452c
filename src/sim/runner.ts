// Runs one scenario: the real engine, on the real SQLite store, against the simulated cloud, on virtual time.
// Produces a log (timed events, Nova calls, status changes, then a summary of the end state) that the scenario
// tests compare with a golden file, and statistics the benchmark reads.

import { parseConfig } from '../core/config/load.ts';
import type { Config } from '../core/config/schema.ts';
import { MasakariError } from '../core/domain/errors.ts';
import { acceptNotification } from '../core/domain/intake.ts';
import type { Notification } from '../core/domain/model.ts';
import { createEngine, fencerGate, type Engine } from '../core/engine/index.ts';
import { VirtualEnv } from '../core/env-virtual.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import type { FenceGate } from '../core/ports/fence.ts';
import type { Store } from '../core/store/types.ts';
import { openSqliteStore } from '../core/store/sqlite/index.ts';
import { SimFencer } from '../drivers/fence/sim/index.ts';
import { SimCloud, SimComputeDriver, type SimLatencies, type SimOp } from '../drivers/compute/sim/index.ts';
import { Incarnation } from './incarnation.ts';
import type { Scenario, ScenarioEvent } from './format.ts';
import { errorMessage } from '../core/errors.ts';

export interface NotificationStat {
  name: string;
  uuid: string;
  acceptedAtS: number;
  finalStatus: string;
  finalAtS: number | null;
}

export interface SimResult {
  lines: string[];
  text: string;
  repeatedEvacuations: number;
  violations: string[];
  notifications: NotificationStat[];
  endS: number;
}

export interface RunOptions {
  /** SQLite file for the store (default ':memory:'); a crash keeps it either way. */
  storePath?: string;
  log?: Logger;
  /** Skip the end-state summary (benchmarks with thousands of servers). */
  noSummary?: boolean;
}

const START_MS = Date.UTC(2026, 10, 22, 0, 0, 0);
const FINAL = new Set(['finished', 'ignored', 'failed']);

interface Controller {
  name: string;
  life: Incarnation;
  engine: Engine | undefined;
}

interface CrashTrigger {
  controller: string;
  kind: 'task' | 'calls' | 'writes';
  op?: string;
  task?: string;
  when?: 'start' | 'end';
  nth: number;
  seen: number;
  restartAfter?: number;
}

type StoreMethod = { [K in keyof Store]-?: NonNullable<Store[K]> extends (...args: never[]) => unknown ? K : never }[keyof Store];

/**
 * Whether each Store method writes: a crash right after any write is a crash "at any moment" for the engine. A
 * record over every method, so a method added to Store does not compile until it is sorted here.
 */
const STORE_WRITES: Record<StoreMethod, boolean> = {
  changeStamp: false,
  listSegments: false,
  getSegment: false,
  createSegment: true,
  updateSegment: true,
  deleteSegment: true,
  segmentInUse: false,
  listHosts: false,
  getHost: false,
  getHostByName: false,
  listHostsOfSegment: false,
  createHost: true,
  updateHost: true,
  deleteHost: true,
  hostInUse: false,
  listNotifications: false,
  getNotification: false,
  createNotification: true,
  setNotificationStatus: true,
  finishNotification: true,
  settleNewNotification: true,
  claimNotification: true,
  renewNotificationClaim: true,
  releaseNotificationClaim: true,
  findNotificationsByStatus: false,
  claimHostRecovery: true,
  releaseHostRecovery: true,
  appendTask: true,
  updateTask: true,
  listTasks: false,
  createVMove: true,
  updateVMove: true,
  getVMove: false,
  listVMoves: false,
  appendEvents: true,
  listEventsAfter: false,
  eventIdRange: false,
  recordHeartbeat: true,
  listHeartbeats: false,
  purge: true,
  importRecords: true,
  schemaVersion: false,
  migrate: true,
  close: false,
};
const isStoreWrite = (method: string): boolean => STORE_WRITES[method as StoreMethod] === true;

const pad = (n: number) => n.toFixed(3).padStart(9);

export async function runScenario(s: Scenario, opts: RunOptions = {}): Promise<SimResult> {
  const venv = new VirtualEnv(START_MS, s.seed);
  const rel = () => (venv.nowMs() - START_MS) / 1000;
  const lines: string[] = [];
  const out = (src: string, text: string) => lines.push(`[${pad(rel())}] ${src.padEnd(5)} ${text}`);

  const config: Config = parseConfig(s.config, 'scenario config');
  const store: Store = openSqliteStore({ path: opts.storePath ?? ':memory:', uuid: () => venv.uuid(), now: () => venv.now() });
  const lat: Partial<SimLatencies> = {};
  const L = s.latencies;
  if (L.api_ms !== undefined) lat.apiMs = L.api_ms;
  if (L.evacuate_call_ms !== undefined) lat.evacuateCallMs = L.evacuate_call_ms;
  if (L.rebuild_min_ms !== undefined) lat.rebuildMinMs = L.rebuild_min_ms;
  if (L.rebuild_max_ms !== undefined) lat.rebuildMaxMs = L.rebuild_max_ms;
  if (L.stop_ms !== undefined) lat.stopMs = L.stop_ms;
  if (L.start_ms !== undefined) lat.startMs = L.start_ms;
  if (L.service_down_ms !== undefined) lat.serviceDownMs = L.service_down_ms;
  const cloud = new SimCloud(venv, lat, (line) => out('nova', line));
  const driver = new SimComputeDriver(cloud);
  const fencer = s.fencer ? new SimFencer(cloud, s.fencer.latency_ms) : undefined;

  // ---- the starting cloud
  for (const seg of s.cloud.segments) {
    const created = await store.createSegment(
      { name: seg.name, description: null, recoveryMethod: seg.recovery_method, serviceType: 'COMPUTE', enabled: seg.enabled },
      venv.now(),
    );
    for (const h of seg.hosts) {
      await store.createHost(
        created.uuid,
        { name: h.name, type: 'COMPUTE', controlAttributes: 'SSH', reserved: h.reserved, onMaintenance: h.on_maintenance },
        venv.now(),
      );
      // Reserved hosts sit with nova-compute disabled until Masakari enables them.
      cloud.addHost(h.name, { power: h.power, serviceEnabled: h.service_enabled && !h.reserved });
    }
  }
  for (const h of s.cloud.compute_hosts) cloud.addHost(h);
  for (const a of s.cloud.aggregates) cloud.addAggregate(a.name, a.hosts);
  for (const v of s.cloud.servers) {
    cloud.addServer({
      id: v.id,
      name: v.name ?? v.id,
      host: v.host,
      vmState: v.vm_state,
      taskState: v.task_state,
      metadata: v.metadata,
      locked: v.locked,
      ...(v.power_state !== undefined ? { powerState: v.power_state } : {}),
    });
  }
  for (const g of s.cloud.server_groups) {
    for (let i = 1; i <= g.count; i++) {
      const id = `${g.prefix}${String(i).padStart(String(g.count).length, '0')}`;
      const ha = g.ha_every > 0 && (i - 1) % g.ha_every === 0;
      cloud.addServer({ id, host: g.host, vmState: g.vm_state, metadata: ha ? { HA_Enabled: 'True' } : {} });
    }
  }

  // ---- notifications and controllers
  const names = new Map<string, string>(); // uuid -> short name
  const stats = new Map<string, NotificationStat>();
  const nameOf = (uuid: string) => names.get(uuid) ?? uuid;
  const controllers = new Map<string, Controller>();
  const triggers: CrashTrigger[] = [];

  const crash = (c: Controller, why: string, restartAfter?: number) => {
    if (!c.life.alive) return;
    c.life.kill();
    out('sim', `${c.name} killed (${why})`);
    if (restartAfter !== undefined) venv.setTimer(() => void restart(c.name), restartAfter * 1000);
  };

  const afterStoreCall = (c: Controller) => (method: string, args: unknown[]) => {
    if (isStoreWrite(method)) {
      for (const t of triggers) {
        if (t.controller !== c.name || t.kind !== 'writes' || t.seen >= t.nth) continue;
        if (++t.seen === t.nth) crash(c, `after ${t.nth} store writes (last: ${method})`, t.restartAfter);
      }
    }
    for (const t of triggers) {
      if (t.controller !== c.name || t.kind !== 'task' || t.seen >= t.nth) continue;
      const isStart = method === 'appendTask' && args[1] === t.task && t.when === 'start';
      const patch = args[2] as { state?: string } | undefined;
      const isEnd = method === 'updateTask' && t.when === 'end' && patch?.state === 'SUCCESS' && taskNameOf(args[0] as string, args[1] as number) === t.task;
      if (isStart || isEnd) {
        if (++t.seen === t.nth) crash(c, `at ${t.when} of ${t.task}`, t.restartAfter);
      }
    }
  };
  // updateTask only carries the seq; remember which task each seq is.
  const taskNames = new Map<string, string>();
  const taskNameOf = (uuid: string, seq: number) => taskNames.get(`${uuid}#${seq}`);

  const afterComputeCall = (c: Controller) => (method: string) => {
    for (const t of triggers) {
      if (t.controller !== c.name || t.kind !== 'calls' || t.op !== method || t.seen >= t.nth) continue;
      if (++t.seen === t.nth) crash(c, `after ${t.nth} ${method} calls`, t.restartAfter);
    }
  };

  async function startController(name: string): Promise<void> {
    const c: Controller = controllers.get(name) ?? { name, life: new Incarnation(), engine: undefined };
    c.life = new Incarnation();
    controllers.set(name, c);
    const life = c.life;
    const rawStore = new Proxy(store, {
      get(obj, prop, recv) {
        const v = Reflect.get(obj, prop, recv) as unknown;
        if (prop !== 'appendTask' || typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const seq = await (v as (...a: unknown[]) => Promise<number>).apply(obj, args);
          taskNames.set(`${args[0] as string}#${seq}`, args[1] as string);
          return seq;
        };
      },
    });
    const gate: FenceGate | undefined = fencer ? life.wrap(fencerGate(fencer)) : undefined;
    c.engine = createEngine({
      store: life.wrap(rawStore, afterStoreCall(c)),
      compute: life.wrap(driver, afterComputeCall(c)),
      ...(gate ? { fence: gate } : {}),
      config,
      env: life.env(venv),
      log: opts.log ?? silentLogger,
      ownerId: name,
      observer: {
        status: (uuid, st, reason) => {
          if (!life.alive) return;
          out(name, `${nameOf(uuid)} -> ${st}${reason ? `: ${reason}` : ''}`);
          const stat = stats.get(uuid);
          if (stat) {
            stat.finalStatus = st;
            stat.finalAtS = FINAL.has(st) ? rel() : null;
          }
        },
        task: (uuid, task, state) => life.alive && out(name, `${nameOf(uuid)} ${task} ${state}`),
      },
    });
    await c.engine.start();
  }

  async function restart(name: string): Promise<void> {
    out('sim', `${name} starts`);
    await startController(name);
  }

  async function notify(e: NonNullable<ScenarioEvent['notify']>): Promise<void> {
    const what = `${e.id} ${e.type} ${e.host} ${JSON.stringify(e.payload)}`;
    let n: Notification;
    try {
      // The API's own intake rules, not a copy of them.
      n = await acceptNotification(
        { store, duplicateWindowMs: config.engine.duplicate_notification_detection_interval * 1000, now: () => venv.now(), uuid: () => venv.uuid() },
        { type: e.type, hostname: e.host, generatedTime: new Date(venv.nowMs() - e.generated_ago * 1000), payload: e.payload },
      );
    } catch (err) {
      if (err instanceof MasakariError) return void out('api', `${what} rejected ${err.status}: ${err.message}`);
      throw err;
    }
    names.set(n.uuid, e.id);
    stats.set(n.uuid, { name: e.id, uuid: n.uuid, acceptedAtS: rel(), finalStatus: 'new', finalAtS: null });
    out('api', `${what} accepted`);
    if (e.to === 'none') return;
    const alive = [...controllers.values()].filter((c) => c.life.alive);
    const targets = e.to === 'all' ? alive : e.to === 'first' ? alive.slice(0, 1) : alive.filter((c) => c.name === e.to);
    for (const c of targets) c.engine!.notificationAccepted(n);
  }

  async function apply(e: ScenarioEvent): Promise<void> {
    if (e.notify) return notify(e.notify);
    if (e.power_off) {
      out('sim', `power-off ${e.power_off}`);
      return void cloud.powerOff(e.power_off);
    }
    if (e.power_on) {
      out('sim', `power-on ${e.power_on}`);
      return void cloud.powerOn(e.power_on);
    }
    if (e.crash) {
      const c = controllers.get(e.crash);
      if (c) crash(c, 'kill -9');
      return;
    }
    if (e.restart) return restart(e.restart);
    if (e.crash_on_task) {
      const t = e.crash_on_task;
      triggers.push({
        controller: t.controller,
        kind: 'task',
        task: t.task,
        when: t.when,
        nth: t.nth,
        seen: 0,
        ...(t.restart_after !== undefined ? { restartAfter: t.restart_after } : {}),
      });
      return;
    }
    if (e.crash_after_evacuations) {
      const t = e.crash_after_evacuations;
      triggers.push({
        controller: t.controller,
        kind: 'calls',
        op: 'evacuateServer',
        nth: t.count,
        seen: 0,
        ...(t.restart_after !== undefined ? { restartAfter: t.restart_after } : {}),
      });
      return;
    }
    if (e.crash_after_store_writes) {
      const t = e.crash_after_store_writes;
      triggers.push({
        controller: t.controller,
        kind: 'writes',
        nth: t.count,
        seen: 0,
        ...(t.restart_after !== undefined ? { restartAfter: t.restart_after } : {}),
      });
      return;
    }
    if (e.crash_after_calls) {
      const t = e.crash_after_calls;
      triggers.push({
        controller: t.controller,
        kind: 'calls',
        op: t.op,
        nth: t.count,
        seen: 0,
        ...(t.restart_after !== undefined ? { restartAfter: t.restart_after } : {}),
      });
      return;
    }
    if (e.nova) {
      out('sim', `nova ${e.nova}`);
      cloud.apiUp = e.nova === 'up';
      return;
    }
    if (e.fault) {
      const f = e.fault;
      out('sim', `fault armed: ${f.op}${f.target ? ' ' + f.target : ''} -> ${f.code}${f.times ? ` x${f.times}` : ''}`);
      cloud.faults.push({
        op: f.op as SimOp,
        code: f.code,
        ...(f.target ? { target: f.target } : {}),
        ...(f.message ? { message: f.message } : {}),
        ...(f.times ? { times: f.times } : {}),
      });
      return;
    }
    if (e.rebuild) return void cloud.rebuildOutcome.set(e.rebuild.server, e.rebuild.outcome);
    if (e.power) return void cloud.powerOutcome.set(e.power.server, e.power.outcome);
    if (e.fence_fault) {
      if (!fencer) return;
      if (e.fence_fault.fault === 'none') fencer.faults.delete(e.fence_fault.host);
      else fencer.faults.set(e.fence_fault.host, e.fence_fault.fault);
      return;
    }
    if (e.server_state) {
      const v = cloud.servers.get(e.server_state.server);
      if (!v) return;
      if (e.server_state.vm_state) v.vmState = e.server_state.vm_state;
      if (e.server_state.task_state !== undefined) v.taskState = e.server_state.task_state;
      if (e.server_state.host) v.host = e.server_state.host;
      return;
    }
    if (e.periodic) {
      const c = controllers.get(e.periodic);
      if (c?.life.alive) {
        out('sim', `${c.name} periodic jobs`);
        await c.engine!.runPeriodic();
      }
    }
  }

  for (const name of s.controllers) await startController(name);
  for (const e of s.events) venv.setTimer(() => void apply(e).catch((err: unknown) => out('sim', `event failed: ${errorMessage(err)}`)), e.at * 1000);

  // Run in slices until the deadline, or until every event happened and every notification is final.
  const lastEventMs = START_MS + Math.max(0, ...s.events.map((e) => e.at * 1000));
  const deadline = START_MS + s.run_until * 1000;
  while (venv.nowMs() < deadline) {
    await venv.run(Math.min(deadline, venv.nowMs() + 10_000));
    if (venv.nowMs() < lastEventMs) continue;
    // The store is the truth (a controller killed right after writing a final status never told its observer).
    let open = false;
    for (const st of stats.values()) if (!FINAL.has((await store.getNotification(st.uuid))?.status ?? 'new')) open = true;
    if (!open) break;
  }
  const endS = rel();
  out('sim', 'end');
  for (const st of stats.values()) {
    const n = await store.getNotification(st.uuid);
    if (!n) continue;
    st.finalStatus = n.status;
    if (!FINAL.has(n.status)) st.finalAtS = null;
    else if (st.finalAtS === null) st.finalAtS = ((n.updatedAt ?? venv.now()).getTime() - START_MS) / 1000;
  }
  for (const c of controllers.values()) if (c.life.alive) c.life.kill(); // freeze; nothing more happens

  if (!opts.noSummary) await summarise(s, store, cloud, stats, lines, START_MS);
  await store.close();
  return {
    lines,
    text: lines.join('\n') + '\n',
    repeatedEvacuations: cloud.repeatedEvacuations,
    violations: cloud.violations,
    notifications: [...stats.values()],
    endS,
  };
}

async function summarise(s: Scenario, store: Store, cloud: SimCloud, stats: Map<string, NotificationStat>, lines: string[], startMs: number): Promise<void> {
  const t = (d: Date | null) => (d ? ((d.getTime() - startMs) / 1000).toFixed(3) : '-');
  lines.push('== notifications');
  for (const st of stats.values()) {
    const n = (await store.getNotification(st.uuid))!;
    lines.push(`${st.name} ${n.type}: ${n.status} (attempts ${n.attempts})${n.lastError ? ` last_error: ${n.lastError}` : ''}`);
    for (const task of await store.listTasks(st.uuid)) {
      lines.push(`  ${task.name} ${task.state} ${task.progress.toFixed(1)}`);
      if (s.summary === 'full') for (const d of task.details) lines.push(`    ${t(d.timestamp)} ${d.progress.toFixed(1)} ${d.message}`);
    }
    if (n.type === 'COMPUTE_HOST') {
      const moves = await store.listVMoves({ filters: { notificationUuid: st.uuid }, sort: [{ key: 'created_at', dir: 'asc' }], limit: 100_000 });
      // Brief summaries (large runs) count the successful moves and list only the others.
      const shown = s.summary === 'full' ? moves : moves.filter((m) => m.status !== 'succeeded');
      if (s.summary !== 'full') lines.push(`  vmoves: ${moves.length - shown.length} succeeded, ${shown.length} other`);
      for (const m of shown) {
        lines.push(
          `  vmove ${m.instanceUuid} ${m.type} ${m.status} ${m.sourceHost} -> ${m.destHost ?? '-'} [${t(m.startTime)}..${t(m.endTime)}]${m.message ? ` ${m.message}` : ''}`,
        );
      }
    }
  }
  lines.push('== hosts');
  for (const h of cloud.hosts.values()) {
    const svc = cloud.serviceView(h.name, 'nova-compute')!;
    const mh = await store.getHostByName(h.name);
    const m = mh ? ` maintenance=${mh.onMaintenance} reserved=${mh.reserved}` : '';
    lines.push(`${h.name} power=${h.power} service=${svc.status}/${svc.state}${svc.forcedDown ? ' forced_down' : ''}${m}`);
  }
  for (const a of cloud.aggregates) lines.push(`aggregate ${a.name}: ${a.hosts.join(',')}`);
  lines.push('== servers');
  if (s.summary === 'full') {
    for (const v of cloud.servers.values()) {
      lines.push(
        `${v.id} on ${v.host} ${v.vmState}${v.taskState ? `/${v.taskState}` : ''}${v.locked ? ' locked' : ''} evacuations=${cloud.evacuations.get(v.id) ?? 0}`,
      );
    }
  } else {
    const byHost = new Map<string, number>();
    for (const v of cloud.servers.values()) byHost.set(`${v.host} ${v.vmState}`, (byHost.get(`${v.host} ${v.vmState}`) ?? 0) + 1);
    for (const [k, n] of [...byHost].sort()) lines.push(`${k}: ${n}`);
  }
  lines.push(`repeated evacuations: ${cloud.repeatedEvacuations}`);
  lines.push(`split-brain violations: ${cloud.violations.length ? cloud.violations.join('; ') : 'none'}`);
}
