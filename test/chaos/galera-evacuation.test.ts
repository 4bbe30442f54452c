// Chaos on Galera: three real controller processes, each on a different node of a real three-node MariaDB Galera
// cluster (test/labs/galera), sharing one simulated cloud (sim-rpc.ts). A host with 200 instances fails; during its
// evacuation:
//   (b) node 2's link is cut at the bridge: node 2 loses quorum (non-Primary) for a while, then rejoins;
//   (c) the controller holding the workflow is killed with SIGKILL, and started again after its lease ran out;
//   (a) node 3's mariadbd is killed with SIGKILL and stays dead (the cluster goes on with two nodes).
// ctl-1 and ctl-3 have a list of nodes (their own first); ctl-2 has only node 2, so while node 2 is cut off it must
// stop claiming work until its node is back in the Primary component. Meanwhile PROCESS notifications are posted to
// every controller, once a second.
// Asserts: the evacuation ends `finished`, every instance evacuated exactly once, unlocked and back in its state, 200
// succeeded vmoves, one block of evacuate calls per controller life; ctl-2 held no live lease and sent no evacuate
// call while its node was cut off; every notification answered 202 is stored and reaches a final state. docs/ha.md ("Galera").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { realEnv } from '../../src/core/env.ts';
import { SimCloud } from '../../src/drivers/compute/sim/index.ts';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { GaleraLab, galeraLabMissing, GALERA_COMPONENT, type NodeNo } from '../labs/galera/lab.ts';
import { requireComponent } from '../support/components.ts';
import { envInt, FINAL, killAll, killHard, postNotification, sleep, startControllerProc, type ControllerProc } from './helpers.ts';
import { serveSimCloud, type SimRpcServer } from './sim-rpc.ts';

const INSTANCES = envInt('CHAOS_INSTANCES', 200);
const LEASE_S = 3;
const missing = galeraLabMissing();
let lab: GaleraLab | undefined;
let store: Store | undefined;
let rpc: SimRpcServer | undefined;

before(async () => {
  if (missing === null) lab = await GaleraLab.start();
});
after(async () => {
  await killAll();
  await rpc?.close();
  await store?.close().catch(() => {});
  await lab?.stop();
});

test(`Galera: node cut off, node killed, controller killed during a ${INSTANCES}-instance evacuation`, { timeout: 600_000 }, async (t) => {
  if (!requireComponent(t, `${GALERA_COMPONENT}: ${missing}`, missing === null)) return;
  const db = await lab!.createDatabase('chaos');
  store = await openMysqlStore({ url: lab!.url(db, [1, 2, 3]), connectionLimit: 2 });
  const q = <R>(sql: string, params: unknown[] = []) => lab!.query<R>(sql.replaceAll('DB.', `\`${db}\`.`), params);

  const cloud = new SimCloud(realEnv, { apiMs: 5, evacuateCallMs: 20, rebuildMinMs: 1000, rebuildMaxMs: 3000, stopMs: 200, startMs: 200, serviceDownMs: 1000 });
  const hosts = ['cmp01', 'cmp02', 'cmp03', 'cmp04', 'cmp05'];
  const seg = await store.createSegment({ name: 'chaos', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
  for (const h of hosts) {
    cloud.addHost(h);
    await store.createHost(seg.uuid, { name: h, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date());
  }
  const before = new Map<string, 'active' | 'stopped'>();
  for (let i = 0; i < INSTANCES; i++) {
    const id = `vm-${String(i).padStart(4, '0')}`;
    const vmState = i % 10 === 9 ? 'stopped' : 'active';
    before.set(id, vmState);
    cloud.addServer({ id, host: 'cmp01', vmState, metadata: i % 2 ? { HA_Enabled: 'True' } : {} });
  }
  rpc = await serveSimCloud(cloud);

  const configFor = (nodes: NodeNo[]) => ({
    database: { url: lab!.url(db, nodes), failover_timeout_ms: 5000 },
    api: { listen: '127.0.0.1:0' },
    log: { level: 'warn' },
    engine: {
      claim_lease_seconds: LEASE_S,
      orphan_scan_interval: 0.5,
      verify_interval: 0.2,
      wait_period_after_evacuation: 60,
      wait_period_after_service_update: 20,
      process_unfinished_notifications_interval: 2,
      retry_notification_new_status_interval: 1,
      host_failure_recovery_threads: 8,
    },
    host_failure: { fencing_required: false },
    cluster_safety: { mass_failure: { enabled: false } },
  });
  const nodesOf: Record<string, NodeNo[]> = { 'ctl-1': [1, 2, 3], 'ctl-2': [2], 'ctl-3': [3, 1, 2] };
  const ctl = new Map<string, ControllerProc>();
  const startCtl = async (o: string) => void ctl.set(o, await startControllerProc(configFor(nodesOf[o]!), rpc!.url, o));
  await Promise.all(Object.keys(nodesOf).map(startCtl));

  // PROCESS notifications to every controller, once a second, all through the chaos.
  const accepted: string[] = [];
  const answers = new Map<string, number>();
  let posting = true;
  let seq = 0;
  const poster = (async () => {
    while (posting) {
      await Promise.all(
        [...ctl.entries()].map(async ([o, c]) => {
          const n = seq++;
          try {
            const r = await postNotification(c.port, {
              type: 'PROCESS',
              hostname: 'cmp02',
              generated_time: new Date().toISOString(),
              payload: { process_name: `p-${n}`, event: 'STARTED' },
            });
            answers.set(`${o} ${r.status}`, (answers.get(`${o} ${r.status}`) ?? 0) + 1);
            if (r.status === 202) accepted.push(r.body.notification!.notification_uuid);
          } catch {
            answers.set(`${o} no answer`, (answers.get(`${o} no answer`) ?? 0) + 1);
          }
        }),
      );
      await sleep(1000);
    }
  })();

  cloud.powerOff('cmp01');
  const post = await postNotification(ctl.get('ctl-1')!.port, {
    type: 'COMPUTE_HOST',
    hostname: 'cmp01',
    generated_time: new Date().toISOString(),
    payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
  });
  assert.equal(post.status, 202, JSON.stringify(post.body));
  const uuid = post.body.notification!.notification_uuid;
  const t0 = Date.now();
  type Row = { status: string; claimed_by: string | null; claim_expires_at: number | null };
  const row = async () => (await q<Row[]>('SELECT status, claimed_by, claim_expires_at FROM DB.notifications WHERE uuid = ?', [uuid]))[0]!;
  const doneMoves = async () =>
    Number((await q<{ n: number }[]>(`SELECT COUNT(*) AS n FROM DB.vmoves WHERE notification_uuid = ? AND status = 'succeeded'`, [uuid]))[0]!.n);
  const waitMoves = async (n: number) => {
    const until = Date.now() + 240_000;
    while ((await doneMoves()) < n && (await row()).status === 'running') {
      if (Date.now() > until) assert.fail(`fewer than ${n} moves after 240 s`);
      await sleep(250);
    }
  };
  const events: string[] = [];
  const at = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  // (b) node 2 cut off once 10% have moved; while it is non-Primary, ctl-2 must hold no live lease.
  await waitMoves(Math.floor(INSTANCES * 0.1));
  await lab!.link(2, 'down');
  const cutAt = Date.now();
  events.push(`${at()}: node 2 cut off`);
  await lab!.waitFor(async () => (await lab!.status(2)).cluster !== 'Primary', 'node 2 non-Primary', Date.now() + 60_000);
  events.push(`${at()}: node 2 non-Primary`);
  const leasesOfCtl2: string[] = [];
  const holdUntil = Date.now() + 12_000;
  while (Date.now() < holdUntil) {
    const quietFrom = cutAt + (LEASE_S + 3) * 1000;
    const now = Date.now();
    if (now > quietFrom) {
      const live = await q<{ uuid: string }[]>(`SELECT uuid FROM DB.notifications WHERE claimed_by = 'ctl-2' AND claim_expires_at > ?`, [now * 1000]);
      const hostLive = await q<{ recovery_key: string }[]>(`SELECT recovery_key FROM DB.host_recovery_claims WHERE owner = 'ctl-2' AND expires_at > ?`, [
        now * 1000,
      ]);
      for (const l of live) leasesOfCtl2.push(`${at()}: notification ${l.uuid}`);
      for (const l of hostLive) leasesOfCtl2.push(`${at()}: host ${l.recovery_key}`);
    }
    await sleep(500);
  }
  const restoredAt = Date.now();
  await lab!.link(2, 'up');
  await lab!.waitSynced([1, 2, 3], 120_000);
  events.push(`${at()}: node 2 back, Synced`);

  // (c) kill -9 the controller holding the workflow (if it is still running), restart it after its lease ran out.
  const r = await row();
  if (r.status === 'running' && r.claimed_by && ctl.has(r.claimed_by)) {
    const holder = r.claimed_by;
    await killHard(ctl.get(holder)!.child);
    ctl.delete(holder);
    events.push(`${at()}: controller ${holder} killed (${await doneMoves()} moves done)`);
    await sleep((LEASE_S + 2) * 1000);
    await startCtl(holder);
    events.push(`${at()}: controller ${holder} restarted`);
  }

  // (a) kill -9 node 3's mariadbd once 60% have moved; it stays dead.
  await waitMoves(Math.floor(INSTANCES * 0.6));
  await lab!.killNode(3);
  events.push(`${at()}: node 3 killed (${await doneMoves()} moves done)`);

  // Every notification reaches a final state.
  const deadline = Date.now() + 300_000;
  let final = await row();
  while (!FINAL.has(final.status)) {
    if (Date.now() > deadline) assert.fail(`not final: ${JSON.stringify(final)}, ${await doneMoves()} moves done; ${events.join('; ')}`);
    await sleep(500);
    final = await row();
  }
  posting = false;
  await poster;
  events.push(`${at()}: evacuation ${final.status}`);
  t.diagnostic(events.join('; '));
  t.diagnostic(`POST answers: ${JSON.stringify(Object.fromEntries(answers))}`);
  assert.equal(final.status, 'finished');
  // A controller whose database cannot serve answers 503 (DATABASE_UNAVAILABLE), never 500.
  const faults = [...ctl.values()].flatMap((c) =>
    c
      .output()
      .split('\n')
      .filter((l) => l.includes('unexpected API error'))
      .map((l) => `${c.owner}: ${l.slice(0, 1500)}`),
  );
  assert.deepEqual(
    [...answers.keys()].filter((k) => k.endsWith(' 500')),
    [],
    `answered 500: ${faults.slice(0, 3).join('\n')}`,
  );

  // ctl-2 stopped claiming while its node was out of the Primary component.
  assert.deepEqual(leasesOfCtl2, [], 'ctl-2 held a live lease while its node was cut off');
  const quiet = rpc.evacuateCalls.filter((c) => c.caller.startsWith('ctl-2#') && c.atMs > cutAt + (LEASE_S + 3) * 1000 && c.atMs < restoredAt);
  assert.deepEqual(quiet.slice(0, 3), [], 'ctl-2 evacuated while its node was cut off');

  // No instance evacuated twice; each is where it should be.
  assert.equal(cloud.repeatedEvacuations, 0);
  assert.deepEqual(cloud.violations, []);
  const ok = rpc.evacuateCalls.filter((c) => c.accepted);
  const per = new Map<string, number>();
  for (const c of ok) per.set(c.server, (per.get(c.server) ?? 0) + 1);
  const wrong: string[] = [];
  const leftBehind: string[] = [];
  for (const [id, state] of before) {
    const s = cloud.servers.get(id)!;
    if ((per.get(id) ?? 0) !== 1 || (cloud.evacuations.get(id) ?? 0) !== 1) wrong.push(`${id}: ${per.get(id) ?? 0} evacuate calls accepted`);
    if (s.host === 'cmp01' || s.taskState !== null) wrong.push(`${id}: ${s.host} ${s.vmState}/${s.taskState}`);
    if (s.vmState !== state || s.locked) leftBehind.push(`${id}: ${s.host} ${s.vmState} (was ${state}) locked=${s.locked}`);
  }
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} instances wrong`);
  // Formerly a known intermittent failure (in-flight instances left locked): a controller whose lease ran out during a
  // view-change stall went on saving its checkpoint over the taker's. Every workflow write is now fenced by the lease
  // (Store LeaseFence; test/engine/lease-fence.test.ts pins it without Galera).
  assert.deepEqual(leftBehind.slice(0, 10), [], `${leftBehind.length} instances left locked or in another state`);
  const moves = await store.listVMoves({ filters: { notificationUuid: uuid }, sort: [], limit: 10_000 });
  assert.equal(moves.length, INSTANCES);
  assert.equal(moves.filter((m) => m.status !== 'succeeded').length, 0);
  const lives = ok.map((c) => c.caller);
  const blocks = lives.filter((c, i) => i === 0 || lives[i - 1] !== c);
  t.diagnostic(`evacuating lives in order: ${blocks.join(' ')}`);
  assert.equal(blocks.length, new Set(lives).size, `interleaved evacuations of several lives: ${blocks.join(' ')}`);

  // No accepted notification lost: every 202 is stored and final.
  assert.ok(accepted.length > 0);
  const until = Date.now() + 120_000;
  for (;;) {
    const rows = await q<{ uuid: string; status: string }[]>(`SELECT uuid, status FROM DB.notifications WHERE type = 'PROCESS'`);
    const byUuid = new Map(rows.map((x) => [x.uuid, x.status]));
    const lost = accepted.filter((u) => !byUuid.has(u));
    assert.deepEqual(lost, [], 'accepted notifications missing from the database');
    const open = accepted.filter((u) => !FINAL.has(byUuid.get(u)!));
    if (open.length === 0) break;
    if (Date.now() > until) assert.fail(`${open.length} accepted notifications not final`);
    await sleep(1000);
  }
  t.diagnostic(`${accepted.length} PROCESS notifications accepted, all stored and final`);
});
