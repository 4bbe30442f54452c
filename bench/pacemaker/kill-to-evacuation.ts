// Host failure on the real Pacemaker lab, timed: from killing a node to the STOPPED notification accepted, and from
// fencing confirmed to the first evacuation call. Run as root: npx tsx bench/pacemaker/kill-to-evacuation.ts [runs=5]
//
// The set-up is test/e2e/pacemaker.test.ts's: the lab (Corosync + Pacemaker, STONITH by fence_ipmilan against
// ipmi_sim), the real host monitor reading crm_mon inside node1 (500 ms interval, 2 samples), the real engine and
// SQLite store, the Pacemaker fence-evidence gate, and the simulated cloud for the VMs. Each run kills node3 (the
// segment is node2 and node3), waits for the recovery, powers the node on again through its BMC and waits for STARTED.
// Method and results: bench/pacemaker/README.md.

import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../src/core/config/load.ts';
import { createEngine } from '../../src/core/engine/index.ts';
import { realEnv } from '../../src/core/env.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { NotificationDraft } from '../../src/core/ports/notify.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { SimCloud, SimComputeDriver } from '../../src/drivers/compute/sim/index.ts';
import { pacemakerFenceGate, parseFenceTime } from '../../src/drivers/cluster/pacemaker/fence-evidence.ts';
import { log, machineLine, median } from '../support.ts';
import { labHostMonitor, PacemakerLab, pacemakerLabMissing } from '../../test/labs/pacemaker/lab.ts';

const RUNS = Number(process.argv[2] ?? 5);
const NODES = ['node2', 'node3'] as const;
const keyOf = (name: string) => Number(name.slice(4)) as 2 | 3;

interface Run {
  node: string;
  /** ms since the kill */
  accepted: number;
  fencedByPacemaker: number | null;
  evidenceObtained: number;
  firstEvacuate: number;
  status: string;
}

const sec = (ms: number | null) => (ms === null ? '-' : (ms / 1000).toFixed(1));

async function main(): Promise<void> {
  const missing = pacemakerLabMissing();
  if (missing) throw new Error(`the Pacemaker lab cannot run here: ${missing}`);
  log(machineLine());
  const lab = new PacemakerLab();
  const t0 = Date.now();
  await lab.start({ remote: false });
  log(`lab up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const store = openSqliteStore({ path: ':memory:' });
  // The cloud's latencies are small on purpose: what is timed is the cluster's and our part, not Nova's.
  const cloud = new SimCloud(realEnv, { apiMs: 5, evacuateCallMs: 20, rebuildMinMs: 200, rebuildMaxMs: 400, stopMs: 100, startMs: 100, serviceDownMs: 1000 });
  const firstEvacuateAt = new Map<string, number>();
  const compute = new SimComputeDriver(cloud);
  const evacuate = compute.evacuateServer.bind(compute);
  compute.evacuateServer = async (id, target) => {
    const host = cloud.servers.get(id)?.host ?? '';
    if (!firstEvacuateAt.has(host)) firstEvacuateAt.set(host, Date.now());
    return evacuate(id, target);
  };
  const fenceGate = pacemakerFenceGate({ driver: lab.driver(1), failureToleranceMs: 120_000, maxAgeMs: 600_000 });
  let evidenceAt = 0;
  const fence = {
    confirmFenced: async (...a: Parameters<typeof fenceGate.confirmFenced>) => {
      const r = await fenceGate.confirmFenced(...a);
      if (r.fenced) evidenceAt = Date.now();
      return r;
    },
  };
  const config = parseConfig(
    {
      host_failure: { auto_unset_maintenance_on_return: true },
      engine: { wait_period_after_evacuation: 30, verify_interval: 0.2, wait_period_after_power_off: 60 },
    },
    'pacemaker bench',
  );
  const segment = await store.createSegment({ name: 'pcmk', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
  const hostUuid: Record<string, string> = {};
  cloud.addHost('node1');
  for (const name of NODES) {
    hostUuid[name] = (
      await store.createHost(segment.uuid, { name, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date())
    ).uuid;
    cloud.addHost(name);
  }
  const engine = createEngine({ store, compute, fence, config, env: realEnv, log: silentLogger, ownerId: 'bench', periodic: false });
  await engine.start();

  const accepted: { draft: NotificationDraft; uuid: string; at: number; done: Promise<unknown> }[] = [];
  const mirrorPower = () => {
    for (const [name, key] of [
      ['node1', 1],
      ['node2', 2],
      ['node3', 3],
    ] as const)
      lab.nodeIsOn(key) ? cloud.powerOn(name) : cloud.powerOff(name);
  };
  const monitor = labHostMonitor(lab, 1, async (draft) => {
    const at = Date.now();
    mirrorPower();
    const uuid = randomUUID();
    const r = await store.createNotification(
      { uuid, type: draft.type, generatedTime: new Date(), sourceHostUuid: hostUuid[draft.hostname]!, payload: draft.payload },
      0,
      new Date(),
    );
    if (!r.created) throw new Error(`not created: ${JSON.stringify(draft)}`);
    accepted.push({ draft, uuid, at, done: engine.process(uuid) });
  });
  const pollUntil = async (until: () => boolean, what: string) => lab.waitFor(async () => (await monitor.poll(), until()), what, 120_000, 500);
  await pollUntil(() => true, 'first sample');
  await lab.waitFor(async () => (await monitor.poll()).reports.filter((x) => x.reported === 'online').length === 2, 'peers online', 120_000, 500);

  const runs: Run[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      // Always node3: killing node2 and node3 within 5 minutes is 2 of 2 hosts, which the mass-failure guard pauses.
      const node = 'node3';
      for (let v = 0; v < 3; v++) cloud.addServer({ id: `vm-${i}-${v}`, host: node, metadata: { HA_Enabled: 'true' } });
      const before = accepted.length;
      evidenceAt = 0;
      firstEvacuateAt.delete(node);
      const killedAt = Date.now();
      lab.killNode(keyOf(node));
      log(`run ${i + 1}: ${node} killed`);
      await pollUntil(() => accepted.slice(before).some((a) => a.draft.hostname === node), `STOPPED for ${node}`);
      const stop = accepted.slice(before).find((a) => a.draft.hostname === node)!;
      await stop.done;
      const n = (await store.getNotification(stop.uuid))!;
      const fenceLine =
        (await store.listTasks(stop.uuid)).flatMap((t) => t.details.map((d) => d.message)).find((m) => /is fenced: Pacemaker fenced/.test(m)) ?? '';
      const completed = /completed ([^,)]+)/.exec(fenceLine)?.[1] ?? null;
      const fencedAt = parseFenceTime(completed)?.getTime() ?? null;
      const first = firstEvacuateAt.get(node);
      if (!first || !evidenceAt) throw new Error(`run ${i + 1}: ${n.status}, no evacuation or no evidence (${n.lastError})`);
      const run: Run = {
        node,
        accepted: stop.at - killedAt,
        fencedByPacemaker: fencedAt === null ? null : fencedAt - killedAt,
        evidenceObtained: evidenceAt - killedAt,
        firstEvacuate: first - killedAt,
        status: n.status,
      };
      runs.push(run);
      log(`run ${i + 1}: ${JSON.stringify(run)}`);
      // Back: power on through the BMC, STARTED takes it out of maintenance; the cloud's service comes back too.
      const beforeUp = accepted.length;
      await lab.ipmi(keyOf(node), 'chassis', 'power', 'on');
      await pollUntil(() => accepted.slice(beforeUp).some((a) => a.draft.hostname === node && a.draft.payload.event === 'STARTED'), `STARTED for ${node}`);
      await Promise.all(accepted.map((a) => a.done));
      mirrorPower();
      await compute.setComputeServiceForcedDown(node, false);
      await compute.enableComputeService(node);
    }
  } finally {
    await engine.stop().catch(() => undefined);
    await store.close();
    await lab.teardown();
  }

  console.log(
    '| run | node killed | STOPPED accepted | fenced (Pacemaker history) | evidence obtained by the engine | first evacuate call | evidence → first evacuate |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  runs.forEach((r, i) =>
    console.log(
      `| ${i + 1} | ${r.node} | ${sec(r.accepted)} s | ${sec(r.fencedByPacemaker)} s | ${sec(r.evidenceObtained)} s | ${sec(r.firstEvacuate)} s | ${sec(r.firstEvacuate - r.evidenceObtained)} s |`,
    ),
  );
  console.log(
    `| median | | ${sec(median(runs.map((r) => r.accepted)))} s | ${sec(median(runs.flatMap((r) => (r.fencedByPacemaker === null ? [] : [r.fencedByPacemaker]))))} s | ${sec(median(runs.map((r) => r.evidenceObtained)))} s | ${sec(median(runs.map((r) => r.firstEvacuate)))} s | ${sec(median(runs.map((r) => r.firstEvacuate - r.evidenceObtained)))} s |`,
  );
  console.log(JSON.stringify(runs));
}

await main();
