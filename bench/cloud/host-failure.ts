// The whole chain of one host failure on the cloud lab (test/labs/cloud), timed: a node killed hard → Pacemaker
// fenced it → our agent on a surviving node reported it → Nova's first evacuation → every server ACTIVE elsewhere.
// Run as root: npx tsx bench/cloud/host-failure.ts [--runs 3] [--masakari-runs 2] [--servers 4] [--profiles ours,masakari-like]
// (a Masakari-like run takes about 5 minutes: its 60 s monitoring interval and 180 s sleep)
//
// Every role is a process of the built bundle configured by files, as in test/e2e/cloud.test.ts: three Pacemaker
// nodes (network namespaces, Corosync + Pacemaker, ipmi_sim BMCs, fence_ipmilan) that are also Nova's compute hosts
// (nova-compute on Nova's fake driver inside each node) and run our compute agent; two controllers on one MariaDB
// with Keystone auth, the Nova driver and Pacemaker's fence evidence. One lab serves every profile: between profiles
// the controllers and agents are reconfigured and restarted. Method and results: bench/cloud/README.md.

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { log, machineLine, median } from '../support.ts';
import { CloudLab, cloudLabMissing, type HostFailureRun, type NodeN } from '../../test/labs/cloud/lab.ts';

interface Profile {
  label: string;
  /** Deep-merged into the controllers' and the agents' configuration files. */
  controller: Record<string, unknown>;
  agent: Record<string, unknown>;
}

const PROFILES: Record<string, Profile> = {
  // The lab's configuration (test/labs/cloud/*.yaml.tmpl): host monitor every 2 s, one sample; engine defaults
  // (fence evidence, disable + force down, 32 evacuations in flight, batched confirmation).
  ours: { label: 'this project (lab configuration)', controller: {}, agent: {} },
  // Masakari's defaults, emulated with our own components: masakari-hostmonitor's 60 s monitoring interval, the
  // engine's 3 recovery threads, a fixed 180 s sleep after disabling the service, no forced-down. Fencing stays
  // Pacemaker's (Masakari relies on the cluster's STONITH too); our engine's own evidence check is turned off.
  'masakari-like': {
    label: "Masakari's defaults emulated",
    controller: {
      engine: { host_failure_recovery_threads: 3 },
      host_failure: { service_update_wait: 'fixed_sleep', force_down_compute_service: false, fencing_required: false },
    },
    agent: { compute: { host_monitor: { monitoring_interval: 60, monitoring_samples: 1 } } },
  },
};

interface Row {
  profile: string;
  run: number;
  node: string;
  servers: number;
  status: string;
  /** seconds since the kill */
  fenced: number | null;
  reported: number;
  evacuationsStarted: number | null;
  allActive: number;
  load: number;
}

const sec = (v: number | null) => (v === null ? '-' : v.toFixed(1));

function rowOf(profile: string, run: number, node: NodeN, servers: number, r: HostFailureRun, load: number): Row {
  const since = (t: number | null) => (t === null ? null : (t - r.killedAt) / 1000);
  return {
    profile,
    run,
    node: `node${node}`,
    servers,
    status: r.notification.status,
    fenced: since(r.fencedAt),
    reported: since(r.reportedAt)!,
    evacuationsStarted: since(r.evacuationsStartedAt),
    allActive: since(r.allActiveAt)!,
    load,
  };
}

function table(rows: Row[]): string {
  const out = [
    '| profile | run | node killed | servers | status | fenced (Pacemaker) | reported | evacuations started | all ACTIVE | load (1 min) |',
    '|---|---:|---|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows)
    out.push(
      `| ${r.profile} | ${r.run} | ${r.node} | ${r.servers} | ${r.status} | ${sec(r.fenced)} s | ${sec(r.reported)} s | ${sec(r.evacuationsStarted)} s | ${sec(r.allActive)} s | ${r.load.toFixed(2)} |`,
    );
  for (const p of [...new Set(rows.map((r) => r.profile))]) {
    const mine = rows.filter((r) => r.profile === p);
    const col = (f: (r: Row) => number | null) => mine.map(f).filter((x): x is number => x !== null);
    const stat = (f: (r: Row) => number | null, how: (xs: number[]) => number) => (col(f).length ? `${how(col(f)).toFixed(1)} s` : '-');
    for (const [name, how] of [
      ['median', median],
      ['max', (xs: number[]) => Math.max(...xs)],
    ] as const)
      out.push(
        `| ${p} | **${name}** | | | | ${stat((r) => r.fenced, how)} | ${stat((r) => r.reported, how)} | ${stat((r) => r.evacuationsStarted, how)} | ${stat((r) => r.allActive, how)} | |`,
      );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      'masakari-runs': { type: 'string', default: '2' },
      servers: { type: 'string', default: '4' },
      profiles: { type: 'string', default: 'ours,masakari-like' },
    },
  });
  const runs = Number(values.runs);
  const servers = Number(values.servers);
  const profiles = values.profiles.split(',').filter(Boolean);
  for (const p of profiles) if (!PROFILES[p]) throw new Error(`unknown profile ${p} (known: ${Object.keys(PROFILES).join(', ')})`);
  const missing = cloudLabMissing();
  if (missing) throw new Error(`the cloud lab cannot run here: ${missing}`);
  log(machineLine());

  const lab = new CloudLab();
  const rows: Row[] = [];
  try {
    const t0 = Date.now();
    await lab.start();
    log(`lab up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    let k = 0;
    for (const p of profiles) {
      const profile = PROFILES[p]!;
      await lab.reconfigure({ controller: profile.controller, agent: profile.agent });
      log(`profile ${p}: controllers and agents restarted with ${JSON.stringify(profile)}`);
      const n = p === 'masakari-like' ? Number(values['masakari-runs']) : runs;
      for (let run = 1; run <= n; run++, k++) {
        // Each run fails another node (3, 2, 1, 3, ...) and repairs it before the next one.
        const node = ([3, 2, 1] as const)[k % 3]!;
        const ids = await lab.bootServers(node, servers, `bench-${p}-${run}`);
        const load = loadavg()[0]!;
        log(`${p} run ${run}: ${servers} servers ACTIVE on node${node}; killing it`);
        const r = await lab.hostFailure(node, ids, 600_000);
        const row = rowOf(p, run, node, servers, r, load);
        rows.push(row);
        log(`${p} run ${run}: ${JSON.stringify(row)}`);
        await lab.deleteServers(ids);
        await lab.repairNode(node);
        log(`${p} run ${run}: node${node} repaired`);
      }
    }
  } finally {
    if (rows.length) console.log(table(rows));
    await lab.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
