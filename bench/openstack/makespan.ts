// Evacuation makespan of one failed host on the OpenStack lab (real Keystone + Placement + Glance + Nova; Nova's
// fake virt driver, so no real VMs or disks). For each profile: N servers booted on one fake host, that host's
// nova-compute SIGKILLed, a COMPUTE_HOST STOPPED notification posted to our controller (in this process: API +
// engine + real Nova driver + SQLite file), and the time from its 202 to its final status measured.
//
// Run as root: npx tsx bench/openstack/makespan.ts [--servers 30] [--profiles defaults,masakari-like] [--repeat 1]
//                [--token-cache SECONDS]   (turn keystonemiddleware's token cache on in the lab: see enableTokenCache)
// Method and results: bench/openstack/README.md. Raw timings and Masakari's logs go to --out (default /tmp/...).

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir, release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { deepMerge, loadConfig } from '../../src/core/config/load.ts';
import type { NotificationStatus, TaskState } from '../../src/core/domain/model.ts';
import type { ServerInfo } from '../../src/core/ports/compute.ts';
import type { NovaComputeDriver } from '../../src/drivers/compute/nova/driver.ts';
import { createNovaDriver } from '../../src/drivers/compute/nova/index.ts';
import type { OpenStackClient } from '../../src/drivers/openstack/client.ts';
import * as controller from '../../src/roles/controller.ts';
import { labUnavailableReason, startLab, type OpenStackLab } from '../../test/labs/openstack/lab.ts';
import { bootServer, call, waitFor } from '../../test/drivers/nova/helpers.ts';

// ------------------------------------------------------------------------------------------------ profiles

interface Profile {
  label: string;
  config: Record<string, unknown>;
}

// The same definitions as bench/engine/evacuation.bench.ts. The lab has no BMC here, so fencing is off in BOTH
// profiles (fencing time is not what is compared); with fencing off our engine may still force the service down.
const PROFILES: Record<string, Profile> = {
  defaults: { label: 'this engine (defaults)', config: { host_failure: { fencing_required: false } } },
  'masakari-like': {
    label: 'Masakari-like',
    config: {
      engine: { host_failure_recovery_threads: 3 },
      host_failure: { service_update_wait: 'fixed_sleep', force_down_compute_service: false, fencing_required: false },
    },
  },
};

const FINAL: NotificationStatus[] = ['finished', 'error', 'failed', 'ignored'];

// ------------------------------------------------------------------------------------------------ arguments

interface Options {
  servers: number;
  profiles: string[];
  repeat: number;
  /** keystonemiddleware token_cache_time for the lab's nova-api and placement; null: the lab as shipped (-1, off). */
  tokenCache: number | null;
  out: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      servers: { type: 'string', default: '30' },
      profiles: { type: 'string', default: 'defaults,masakari-like' },
      repeat: { type: 'string', default: '1' },
      'token-cache': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const profiles = values.profiles
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of profiles) if (!PROFILES[p]) throw new Error(`unknown profile ${p} (known: ${Object.keys(PROFILES).join(', ')})`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 15);
  return {
    servers: Number(values.servers),
    profiles,
    repeat: Number(values.repeat),
    tokenCache: values['token-cache'] === undefined ? null : Number(values['token-cache']),
    out: values.out ?? join(tmpdir(), `masakari-makespan-${stamp}`),
  };
}

// ------------------------------------------------------------------------------------------------ machine

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

function machineInfo() {
  return {
    cpu: `${cpus()[0]?.model ?? '?'} x ${sh('nproc', [])}`,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    debian: sh('cat', ['/etc/debian_version']),
    kernel: release(),
    node: process.version,
    nova: sh('dpkg-query', ['-W', '-f=${Version}', 'python3-nova']),
    loadavgAtStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
}

// ------------------------------------------------------------------------------------------------ lab set-up

interface Lab {
  lab: OpenStackLab;
  nova: NovaComputeDriver;
  admin: OpenStackClient;
}

const hostNumber = (host: string) => Number(host.slice('fake-host-'.length));
const activeOn = (s: ServerInfo, host: string) => s.host === host && s.vmState === 'active' && s.taskState === null;

/** Boots `n` servers on `host`, a few at a time (the lab has one scheduler and one conductor), every second one HA. */
async function bootServers(l: Lab, host: string, n: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 5) {
    const batch = Array.from({ length: Math.min(5, n - i) }, (_, k) => i + k);
    ids.push(...(await Promise.all(batch.map((k) => bootServer(l.admin, l.lab, `${prefix}-${k}`, host, k % 2 === 0 ? { HA_Enabled: 'True' } : {})))));
  }
  await waitFor(
    `${n} servers ACTIVE on ${host}`,
    () => l.nova.listServersOnHost(host),
    (list) => ids.every((id) => list.some((s) => s.id === id && activeOn(s, host))),
    600_000,
    2_000,
  );
  return ids;
}

/** Deletes servers left by an earlier run (they sit on the target hosts) so every run sees the same targets. */
async function deleteServers(l: Lab, ids: string[]): Promise<void> {
  for (const id of ids) await call(l.admin, { method: 'DELETE', service: 'compute', url: `/servers/${id}` }, 204, 404);
  const gone = async (id: string) => (await l.admin.request({ method: 'GET', service: 'compute', url: `/servers/${id}` })).status === 404;
  await waitFor(
    `${ids.length} servers deleted`,
    async () => (await Promise.all(ids.map(gone))).every(Boolean),
    (ok) => ok,
    300_000,
    2_000,
  );
}

/** Token validations Keystone has served so far (its uwsgi request log). */
function tokenValidations(lab: OpenStackLab): number {
  return readFileSync(join(lab.dir, 'logs', 'keystone.out'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('GET /v3/auth/tokens')).length;
}

/**
 * The lab turns keystonemiddleware's token cache off (token_cache_time = -1) so that its revocation tests see a
 * revoked token refused at once. Then every Nova and Placement request costs a validation in the lab's one Keystone
 * process, which the evacuation's own polling saturates. Production keeps the cache on (300 s by default), so this
 * turns it back on in this lab's copy of the configs (never in test/) and reloads the two uwsgi masters (SIGHUP).
 */
async function enableTokenCache(l: Lab, seconds: number): Promise<string> {
  for (const [conf, pidName] of [
    ['etc/nova/nova.conf', 'nova-api'],
    ['etc/placement/placement.conf', 'placement'],
  ] as const) {
    const file = join(l.lab.dir, conf);
    const text = readFileSync(file, 'utf8');
    if (!/^token_cache_time = -1$/m.test(text)) throw new Error(`${file}: no token_cache_time = -1 to change`);
    writeFileSync(file, text.replace(/^token_cache_time = -1$/m, `token_cache_time = ${seconds}`));
    process.kill(Number(readFileSync(join(l.lab.dir, 'pids', `${pidName}.pid`), 'utf8').trim()), 'SIGHUP');
  }
  await sleep(2_000);
  await waitFor(
    'nova-api back after reload',
    () => l.nova.hostExists(l.lab.hosts[0]!),
    (ok) => ok,
    120_000,
    1_000,
  );
  // Proof that the cache is on: ten identical Nova calls must not cost ten validations any more.
  for (let i = 0; i < 3; i++) await l.nova.hostExists(l.lab.hosts[0]!);
  const before = tokenValidations(l.lab);
  for (let i = 0; i < 10; i++) await l.nova.hostExists(l.lab.hosts[0]!);
  const spent = tokenValidations(l.lab) - before;
  if (spent > 4) throw new Error(`token cache not effective after reload: ${spent} validations for 10 Nova calls`);
  return `token_cache_time = ${seconds} in nova-api and placement: ${spent} Keystone validations for 10 Nova calls`;
}

// ------------------------------------------------------------------------------------------------ controller

interface Observed {
  status: { status: NotificationStatus; atMs: number }[];
  tasks: { task: string; state: TaskState; atMs: number }[];
}

function controllerConfig(l: Lab, profile: Profile, dataDir: string) {
  const { auth_url, username, password, project_name, region_name, interface: itf } = l.lab.config();
  return loadConfig({
    env: {},
    overrides: deepMerge(
      {
        data_dir: dataDir,
        controller: { compute_driver: 'nova', owner_id: 'bench-controller' },
        // The engine uses its own defaults for the OpenStack client (retries, timeouts), as in production.
        openstack: { auth_url, username, password, project_name, region_name, interface: itf },
        api: { listen: '127.0.0.1:0' },
        database: { url: `sqlite:${join(dataDir, 'masakari.sqlite')}`, auto_migrate: true },
      },
      profile.config,
    ),
  });
}

async function api<T>(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(`http://127.0.0.1:${port}/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'OpenStack-API-Version': 'instance-ha 1.1' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as T };
}

async function createSegment(port: number, hosts: string[]): Promise<void> {
  const seg = await api<{ segment: { uuid: string } }>(port, 'POST', '/segments', {
    segment: { name: 'bench', recovery_method: 'auto', service_type: 'COMPUTE' },
  });
  if (seg.status !== 201) throw new Error(`segment: ${seg.status} ${JSON.stringify(seg.body)}`);
  for (const name of hosts) {
    const h = await api(port, 'POST', `/segments/${seg.body.segment.uuid}/hosts`, { host: { name, type: 'COMPUTE', control_attributes: 'SSH' } });
    if (h.status !== 201) throw new Error(`host ${name}: ${h.status} ${JSON.stringify(h.body)}`);
  }
}

// ------------------------------------------------------------------------------------------------ one run

interface RunResult {
  profile: string;
  label: string;
  servers: number;
  failedHost: string;
  loadavgAtStart: string;
  acceptedAt: string;
  finalStatus: NotificationStatus | 'timeout' | 'run failed';
  makespanS: number | null;
  /** Each task's seconds from its RUNNING to its SUCCESS/FAILURE, in the engine's order. */
  taskS: Record<string, number>;
  firstEvacuateS: number | null;
  lastEvacuateS: number | null;
  perServerS: number[];
  activeElsewhere: number;
  destinations: Record<string, number>;
  /** Rebuilds Nova's computes started for this run's servers ("Evacuating instance"); more than N = some twice. */
  novaRebuilds: number;
  /** Servers whose evacuation Nova started more than once. */
  evacuatedTwice: number;
  /** Nova API calls the engine made (its log), for the load it put on the lab. */
  engineNovaCalls: number;
  problems: string[];
  workflowDetails?: unknown;
}

const secondsSince = (t0: number, t: number) => Math.round(t - t0) / 1000;

function taskDurations(obs: Observed): Record<string, number> {
  const out: Record<string, number> = {};
  const started = new Map<string, number>();
  for (const e of obs.tasks) {
    if (e.state === 'RUNNING') started.set(e.task, e.atMs);
    else if ((e.state === 'SUCCESS' || e.state === 'FAILURE') && started.has(e.task)) out[e.task] = (e.atMs - started.get(e.task)!) / 1000;
  }
  return out;
}

/** Where each server ended: counts per host, and what is wrong with those not ACTIVE, unlocked, on another host. */
async function checkServers(l: Lab, ids: string[], failedHost: string) {
  const destinations: Record<string, number> = {};
  const problems: string[] = [];
  for (const id of ids) {
    const s = await l.nova.getServer(id);
    destinations[s.host ?? 'none'] = (destinations[s.host ?? 'none'] ?? 0) + 1;
    const ok = s.host !== failedHost && s.host !== null && l.lab.hosts.includes(s.host) && s.vmState === 'active' && s.taskState === null && !s.locked;
    if (!ok) problems.push(`${id}: host ${s.host}, ${s.vmState}/${s.taskState}, locked ${s.locked}`);
  }
  return { activeElsewhere: ids.length - problems.length, destinations, problems };
}

/** Per server, how many times a nova-compute of the lab logged "Evacuating instance" for it. */
function novaRebuildsPerServer(lab: OpenStackLab, ids: string[]): Map<string, number> {
  const counts = new Map(ids.map((id) => [id, 0]));
  for (const n of lab.hosts.map(hostNumber)) {
    let text = '';
    try {
      text = readFileSync(join(lab.dir, 'logs', `nova-compute-${n}.log`), 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/\[instance: ([0-9a-f-]{36})\] Evacuating instance/g)) {
      if (counts.has(m[1]!)) counts.set(m[1]!, counts.get(m[1]!)! + 1);
    }
  }
  return counts;
}

function engineNovaCalls(logFile: string): number {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"msg":"openstack call"')).length;
}

async function waitFinal(obs: Observed, timeoutMs: number): Promise<{ status: NotificationStatus; atMs: number } | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const last = obs.status.find((s) => FINAL.includes(s.status));
    if (last) return last;
    await sleep(100);
  }
  return null;
}

async function runProfile(l: Lab, key: string, failedHost: string, n: number, outDir: string, runIndex: number): Promise<RunResult> {
  const profile = PROFILES[key]!;
  const tag = `run${runIndex}-${key}`;
  say(`${tag}: enabling ${failedHost} and booting ${n} servers on it`);
  await l.nova.enableComputeService(failedHost);
  const ids = await bootServers(l, failedHost, n, tag);
  say(`${tag}: ${n} servers ACTIVE on ${failedHost}; starting the controller`);

  const dataDir = join(outDir, tag);
  mkdirSync(dataDir, { recursive: true });
  const log = pino({ level: 'debug' }, pino.destination({ dest: join(dataDir, 'masakari.log'), sync: true }));
  // Timestamps come from the engine's own callbacks, so the polling below adds nothing to the measurement.
  const byUuid = new Map<string, Observed>();
  const observedFor = (u: string) => byUuid.get(u) ?? byUuid.set(u, { status: [], tasks: [] }).get(u)!;
  const running = await controller.start(controllerConfig(l, profile, dataDir), log, {
    observer: {
      status: (u, status) => observedFor(u).status.push({ status, atMs: Date.now() }),
      task: (u, task, state) => observedFor(u).tasks.push({ task, state, atMs: Date.now() }),
    },
  });
  try {
    await createSegment(running.port, l.lab.hosts);
    const loadavgAtStart = loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
    l.lab.killCompute(hostNumber(failedHost));
    const post = await api<{ notification: { notification_uuid: string } }>(running.port, 'POST', '/notifications', {
      notification: {
        type: 'COMPUTE_HOST',
        hostname: failedHost,
        generated_time: new Date().toISOString(),
        payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
      },
    });
    const acceptedMs = Date.now();
    if (post.status !== 202) throw new Error(`notification: ${post.status} ${JSON.stringify(post.body)}`);
    const uuid = post.body.notification.notification_uuid;
    say(`${tag}: nova-compute of ${failedHost} killed, notification ${uuid} accepted; waiting for its final status`);

    const obs = observedFor(uuid);
    const final = await waitFinal(obs, 45 * 60_000);
    const vmoves = await running.store.listVMoves({ filters: { notificationUuid: uuid }, sort: [{ key: 'created_at', dir: 'asc' }], limit: 1000 });
    const starts = vmoves.flatMap((v) => (v.startTime ? [v.startTime.getTime()] : []));
    const perServerS = vmoves.flatMap((v) => (v.startTime && v.endTime ? [(v.endTime.getTime() - v.startTime.getTime()) / 1000] : []));
    const check = await checkServers(l, ids, failedHost);
    const shown = await api<{ notification: { status: string; recovery_workflow_details?: unknown } }>(running.port, 'GET', `/notifications/${uuid}`);
    const rebuilds = [...novaRebuildsPerServer(l.lab, ids).values()];
    const problems = [...check.problems];
    if (shown.body.notification.status !== 'finished') problems.push(`notification ${shown.body.notification.status}`);
    if (vmoves.length !== n) problems.push(`${vmoves.length} vmoves for ${n} servers`);
    const result: RunResult = {
      profile: key,
      label: profile.label,
      servers: n,
      failedHost,
      loadavgAtStart,
      acceptedAt: new Date(acceptedMs).toISOString(),
      finalStatus: final?.status ?? 'timeout',
      makespanS: final ? secondsSince(acceptedMs, final.atMs) : null,
      taskS: taskDurations(obs),
      firstEvacuateS: starts.length ? secondsSince(acceptedMs, Math.min(...starts)) : null,
      lastEvacuateS: starts.length ? secondsSince(acceptedMs, Math.max(...starts)) : null,
      perServerS: perServerS.sort((a, b) => a - b),
      activeElsewhere: check.activeElsewhere,
      destinations: check.destinations,
      novaRebuilds: rebuilds.reduce((a, b) => a + b, 0),
      evacuatedTwice: rebuilds.filter((c) => c > 1).length,
      engineNovaCalls: engineNovaCalls(join(dataDir, 'masakari.log')),
      problems,
      ...(problems.length ? { workflowDetails: shown.body.notification.recovery_workflow_details } : {}),
    };
    writeFileSync(join(dataDir, 'result.json'), JSON.stringify({ ...result, observed: obs, vmoves }, null, 2));
    say(`${tag}: ${result.finalStatus} after ${result.makespanS} s; ${result.activeElsewhere}/${n} ACTIVE elsewhere`);
    await deleteServers(l, ids);
    return result;
  } finally {
    await running.stop();
  }
}

function failedRun(key: string, failedHost: string, servers: number, why: string): RunResult {
  const { label } = PROFILES[key]!;
  return {
    profile: key,
    label,
    servers,
    failedHost,
    loadavgAtStart: '?',
    acceptedAt: '?',
    finalStatus: 'run failed',
    makespanS: null,
    taskS: {},
    firstEvacuateS: null,
    lastEvacuateS: null,
    perServerS: [],
    activeElsewhere: 0,
    destinations: {},
    novaRebuilds: 0,
    evacuatedTwice: 0,
    engineNovaCalls: 0,
    problems: [`run failed: ${why}`],
  };
}

// ------------------------------------------------------------------------------------------------ report

const say = (msg: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const fmtS = (s: number | null) => (s === null ? '—' : `${s.toFixed(1)} s`);
const median = (xs: number[]) => (xs.length ? xs[Math.floor((xs.length - 1) / 2)]! : null);

function table(results: RunResult[]): string {
  const rows = [
    '| servers | profile | failed host | makespan | final status | ACTIVE on another host | disable step | first / last evacuate issued | per server: evacuate → confirmed (median / max) | Nova rebuilds started (servers twice) | engine Nova API calls (per server) | load avg (1 min) at start |',
    '|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const perServer = r.perServerS.length ? `${fmtS(median(r.perServerS))} / ${fmtS(r.perServerS.at(-1)!)}` : '—';
    rows.push(
      `| ${r.servers} | ${r.label} | ${r.failedHost} | ${fmtS(r.makespanS)}${r.makespanS !== null ? ` (${(r.makespanS / 60).toFixed(1)} min)` : ''} | ${r.finalStatus} | ` +
        `${r.activeElsewhere}/${r.servers} | ${fmtS(r.taskS.DisableComputeServiceTask ?? null)} | ${fmtS(r.firstEvacuateS)} / ${fmtS(r.lastEvacuateS)} | ${perServer} | ${r.novaRebuilds} (${r.evacuatedTwice}) | ${r.engineNovaCalls} (${(r.engineNovaCalls / r.servers).toFixed(1)}) | ${r.loadavgAtStart.split(' ')[0]} |`,
    );
  }
  return rows.join('\n');
}

function rawTimings(results: RunResult[]): string {
  return results
    .map((r) => {
      const tasks = Object.entries(r.taskS)
        .map(([t, s]) => `${t} ${s.toFixed(2)} s`)
        .join(', ');
      const lines = [
        `- ${r.label} on ${r.failedHost} (accepted ${r.acceptedAt}, load avg ${r.loadavgAtStart}): makespan ${fmtS(r.makespanS)}, ${r.finalStatus}`,
        `  - tasks: ${tasks}`,
        `  - destinations: ${JSON.stringify(r.destinations)}; Nova rebuilds started: ${r.novaRebuilds} (servers evacuated twice: ${r.evacuatedTwice}); engine's Nova API calls: ${r.engineNovaCalls}`,
        `  - per server evacuate → confirmed (s, sorted): ${r.perServerS.map((s) => s.toFixed(1)).join(' ')}`,
      ];
      if (r.problems.length) lines.push(`  - PROBLEMS: ${r.problems.join('; ')}`);
      return lines.join('\n');
    })
    .join('\n');
}

// ------------------------------------------------------------------------------------------------ main

/** Victims fail one per run (fake-host-1, -2, ...); the last two hosts are the evacuation targets of every run. */
function plan(opts: Options): { key: string; victim: string }[] {
  const runs: { key: string; victim: string }[] = [];
  for (let r = 0; r < opts.repeat; r++) for (const key of opts.profiles) runs.push({ key, victim: `fake-host-${runs.length + 1}` });
  return runs;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const why = labUnavailableReason();
  if (why) throw new Error(why);
  mkdirSync(opts.out, { recursive: true });
  const machine = machineInfo();
  const runs = plan(opts);
  const computes = runs.length + 2;
  say(`machine: ${JSON.stringify(machine)}`);
  say(`starting the OpenStack lab with ${computes} fake compute hosts (targets: the last two)`);
  const t0 = Date.now();
  const lab = await startLab({ computes });
  // SIGINT/SIGTERM: exit through process.exit so the lab's exit hook stops its daemons.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  const results: RunResult[] = [];
  let labNote = '';
  try {
    say(`lab up in ${((Date.now() - t0) / 1000).toFixed(0)} s (${lab.dir})`);
    const { driver: nova, client: admin } = createNovaDriver(lab.config(), { logger: pino({ level: 'silent' }) });
    const l: Lab = { lab, nova, admin };
    if (opts.tokenCache !== null) {
      labNote = await enableTokenCache(l, opts.tokenCache);
      say(labNote);
    } else {
      const before = tokenValidations(lab);
      for (let i = 0; i < 10; i++) await nova.hostExists(lab.hosts[0]!);
      labNote = `the lab as shipped (no token cache): ${tokenValidations(lab) - before} Keystone validations for 10 Nova calls`;
    }
    // Hosts that fail later must not receive evacuees now: disabled until their own run boots its servers.
    for (const r of runs) await nova.disableComputeService(r.victim, 'bench: fails in a later run');
    for (const [i, r] of runs.entries()) {
      try {
        results.push(await runProfile(l, r.key, r.victim, opts.servers, opts.out, i + 1));
      } catch (e) {
        // Reported, not hidden: the table shows the run as failed with the reason, and the next run still goes.
        say(`run ${i + 1} (${r.key}) failed: ${(e as Error).stack}`);
        results.push(failedRun(r.key, r.victim, opts.servers, (e as Error).message));
      }
    }
  } finally {
    // The lab's directory goes with it: keep Nova's logs beside our results for the reading.
    cpSync(join(lab.dir, 'logs'), join(opts.out, 'lab-logs'), { recursive: true });
    say('stopping the lab');
    lab.stop();
  }
  const report = [
    `machine: ${JSON.stringify(machine)}`,
    `lab: ${computes} fake compute hosts; ${labNote}; wall time of the whole run ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    '',
    table(results),
    '',
    rawTimings(results),
  ].join('\n');
  writeFileSync(join(opts.out, 'report.md'), report + '\n');
  writeFileSync(join(opts.out, 'results.json'), JSON.stringify({ machine, results }, null, 2));
  console.log(report);
  say(`raw results and Masakari logs: ${opts.out}`);
}

await main();
