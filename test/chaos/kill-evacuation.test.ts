// Chaos: several real controller processes on one real MariaDB, one shared simulated cloud (served by this process
// over loopback, sim-rpc.ts). A host with 200 instances fails; while its evacuation runs, the controller holding the
// workflow's lease is killed with SIGKILL at random moments, many times, and started again (at once, taking its own
// work back, or later, so another controller takes over after the lease ran out); now and then an idle controller
// is killed at the same moment too.
// Asserts: the notification ends `finished`; every instance was evacuated exactly once (counted by the cloud, and
// per evacuate call with the caller's identity), is off the failed host, idle, in its state from before, unlocked;
// every vmove succeeded; the resumed runs said so in the progress ("Resuming ..."); the evacuate calls of the
// controllers' lives form one block per life (never two workflows at once).
//
// Sizes: CHAOS_INSTANCES (200), CHAOS_CONTROLLERS (3), CHAOS_KILLS (4), CHAOS_SEED. docs/ha.md ("Chaos").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { realEnv } from '../../src/core/env.ts';
import { SimCloud } from '../../src/drivers/compute/sim/index.ts';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { MariaDbLab, mariadbAvailable, MARIADB_COMPONENT } from '../labs/mariadb/lab.ts';
import { requireComponent } from '../support/components.ts';
import { envInt, killAll, killHard, postNotification, seededRandom, sleep, startControllerProc, type ControllerProc } from './helpers.ts';
import { serveSimCloud, type SimRpcServer } from './sim-rpc.ts';

const INSTANCES = envInt('CHAOS_INSTANCES', 200);
const CONTROLLERS = Math.max(2, envInt('CHAOS_CONTROLLERS', 3));
const KILLS = envInt('CHAOS_KILLS', 4);
const SEED = envInt('CHAOS_SEED', Date.now() % 1_000_000);
const LEASE_S = 3;

const available = mariadbAvailable();
let lab: MariaDbLab | undefined;
let store: Store | undefined;
let rpc: SimRpcServer | undefined;
let cloud: SimCloud | undefined;

before(async () => {
  if (available) lab = await MariaDbLab.start();
});
after(async () => {
  await killAll();
  await rpc?.close();
  await store?.close().catch(() => {});
  await lab?.stop();
});

test(
  `kill -9 the working controller ${KILLS} times during a ${INSTANCES}-instance evacuation (${CONTROLLERS} controllers, MariaDB)`,
  { timeout: 420_000 },
  async (t) => {
    if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
    const rand = seededRandom(SEED);
    t.diagnostic(`seed ${SEED} (CHAOS_SEED replays it)`);
    const url = await lab!.createDatabase('chaos');
    const dbName = url.split('/').pop()!;
    store = await openMysqlStore({ url, connectionLimit: 2 });

    // The cloud: cmp01 fails; cmp02..cmp05 take its instances (Nova's scheduler, recovery_method auto).
    cloud = new SimCloud(realEnv, { apiMs: 5, evacuateCallMs: 20, rebuildMinMs: 500, rebuildMaxMs: 2500, stopMs: 200, startMs: 200, serviceDownMs: 1000 });
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

    const config = {
      database: { url },
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
        host_failure_recovery_threads: 16,
      },
      // No BMC in this lab; the cloud itself checks that nothing runs on the new host while the old one has power.
      host_failure: { fencing_required: false },
      cluster_safety: { mass_failure: { enabled: false } },
    };
    const owners = Array.from({ length: CONTROLLERS }, (_, i) => `ctl-${i + 1}`);
    const ctl = new Map<string, ControllerProc>();
    await Promise.all(owners.map(async (o) => ctl.set(o, await startControllerProc(config, rpc!.url, o))));

    cloud.powerOff('cmp01');
    const post = await postNotification(ctl.get(owners[0]!)!.port, {
      type: 'COMPUTE_HOST',
      hostname: 'cmp01',
      generated_time: new Date().toISOString(),
      payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
    });
    assert.equal(post.status, 202, JSON.stringify(post.body));
    const uuid = post.body.notification!.notification_uuid;

    const row = async () =>
      (
        (await lab!.adminQuery(`SELECT status, claimed_by FROM \`${dbName}\`.notifications WHERE uuid = ?`, [uuid])) as {
          status: string;
          claimed_by: string | null;
        }[]
      )[0]!;
    const doneMoves = async () =>
      Number(
        (
          (await lab!.adminQuery(`SELECT COUNT(*) AS n FROM \`${dbName}\`.vmoves WHERE notification_uuid = ? AND status = 'succeeded'`, [uuid])) as {
            n: number;
          }[]
        )[0]!.n,
      );

    // The chaos loop: wait until a live controller holds the workflow, let it work a random while, kill it.
    const kills: { owner: string; pid: number; afterMs: number; movesDone: number; restart: 'at once' | 'after takeover'; alsoKilled?: string }[] = [];
    const restarts: Promise<void>[] = [];
    const t0 = Date.now();
    for (let k = 0; k < KILLS; k++) {
      let holder: string | undefined;
      const until = Date.now() + 120_000;
      for (;;) {
        const r = await row();
        if (r.status !== 'running' && r.status !== 'new') break;
        if (r.status === 'running' && r.claimed_by && ctl.get(r.claimed_by)?.child.exitCode === null) {
          holder = r.claimed_by;
          break;
        }
        if (Date.now() > until) assert.fail(`nobody took the workflow over: ${JSON.stringify(r)}`);
        await sleep(100);
      }
      if (!holder) break; // finished before all kills were spent
      if (k === 0) {
        // The first kill at a random moment (often in the early tasks: disable the service, list and record instances).
        await sleep(200 + Math.floor(rand() * 2500));
      } else {
        // The others spread over the evacuation: once a random share of the instances, growing with k, is moved.
        const target = Math.floor(((k - 1 + rand()) / (KILLS - 1)) * INSTANCES * 0.9);
        const until2 = Date.now() + 120_000;
        while ((await doneMoves()) < target && (await row()).status === 'running' && Date.now() < until2) await sleep(100);
      }
      const r = await row();
      if (r.status !== 'running' || r.claimed_by !== holder) {
        k--;
        continue;
      }
      const victim = ctl.get(holder)!;
      const movesDone = await doneMoves();
      await killHard(victim.child);
      ctl.delete(holder);
      const restart = rand() < 0.5 ? 'at once' : 'after takeover';
      // Now and then a bystander (an idle controller) dies at the same moment, and comes back at once.
      const bystanders = [...ctl.values()].filter((c) => c.child.exitCode === null);
      const bystander = rand() < 0.25 && bystanders.length ? bystanders[Math.floor(rand() * bystanders.length)]! : undefined;
      if (bystander) {
        await killHard(bystander.child);
        ctl.delete(bystander.owner);
        restarts.push((async () => void ctl.set(bystander.owner, await startControllerProc(config, rpc.url, bystander.owner)))());
      }
      kills.push({
        owner: holder,
        pid: victim.child.pid!,
        afterMs: Date.now() - t0,
        movesDone,
        restart,
        ...(bystander ? { alsoKilled: bystander.owner } : {}),
      });
      restarts.push(
        (async () => {
          // 'after takeover': stay dead for longer than the lease, so another controller resumes the workflow.
          if (restart === 'after takeover') await sleep((LEASE_S + 2) * 1000);
          ctl.set(holder, await startControllerProc(config, rpc.url, holder));
        })(),
      );
    }
    await Promise.all(restarts);

    // Every notification reaches a final state.
    const deadline = Date.now() + 240_000;
    let final = await row();
    while (final.status === 'new' || final.status === 'running' || final.status === 'error') {
      if (Date.now() > deadline) assert.fail(`not final: ${JSON.stringify(final)}, ${await doneMoves()} moves done`);
      await sleep(250);
      final = await row();
    }
    t.diagnostic(`final ${final.status} after ${((Date.now() - t0) / 1000).toFixed(1)} s; kills: ${JSON.stringify(kills)}`);
    assert.equal(final.status, 'finished');
    assert.ok(kills.length >= Math.min(1, KILLS), 'at least one controller was killed while holding the workflow');

    // No instance evacuated twice; each one is where it should be, in its state from before, idle and unlocked.
    assert.equal(cloud.repeatedEvacuations, 0, 'no evacuation repeated after a completed one');
    assert.deepEqual(cloud.violations, []);
    const accepted = rpc.evacuateCalls.filter((c) => c.accepted);
    const perServer = new Map<string, number>();
    for (const c of accepted) perServer.set(c.server, (perServer.get(c.server) ?? 0) + 1);
    const wrong: string[] = [];
    for (const [id, state] of before) {
      const s = cloud.servers.get(id)!;
      if ((perServer.get(id) ?? 0) !== 1 || (cloud.evacuations.get(id) ?? 0) !== 1) wrong.push(`${id}: ${perServer.get(id) ?? 0} evacuate calls accepted`);
      if (s.host === 'cmp01' || s.vmState !== state || s.taskState !== null || s.locked)
        wrong.push(`${id}: ${s.host} ${s.vmState}/${s.taskState} locked=${s.locked}`);
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} instances wrong`);

    // The store agrees: one succeeded vmove per instance, every task done, and the resumed runs are visible.
    const moves = await store.listVMoves({ filters: { notificationUuid: uuid }, sort: [], limit: 10_000 });
    assert.equal(moves.length, INSTANCES);
    assert.deepEqual(
      moves
        .filter((m) => m.status !== 'succeeded')
        .map((m) => `${m.instanceUuid} ${m.status} ${m.message}`)
        .slice(0, 5),
      [],
    );
    const tasks = await store.listTasks(uuid);
    assert.deepEqual(
      tasks.map((x) => x.state),
      tasks.map(() => 'SUCCESS'),
      tasks.map((x) => `${x.name} ${x.state}`).join(', '),
    );
    const resumed = tasks.flatMap((x) => x.details.filter((d) => d.message.startsWith('Resuming ')).map((d) => `${x.name}: ${d.message}`));
    t.diagnostic(`progress: ${resumed.length} resume lines, e.g. ${JSON.stringify(resumed.slice(0, 2))}`);
    assert.ok(resumed.length >= 1, 'the progress shows that a workflow was resumed');

    // One workflow at a time: sorted by time, each controller life's evacuate calls form one block.
    const lives = accepted.map((c) => c.caller);
    const blocks = lives.filter((c, i) => i === 0 || lives[i - 1] !== c);
    const byLife = new Map<string, number>();
    for (const c of lives) byLife.set(c, (byLife.get(c) ?? 0) + 1);
    const blockInfo = blocks.map((b) => {
      const mine = accepted.filter((c) => c.caller === b);
      return `${b}: ${mine.length} at ${mine[0]!.atMs - t0}..${mine[mine.length - 1]!.atMs - t0} ms`;
    });
    t.diagnostic(`evacuations per controller life, in order: ${blockInfo.join('; ')}`);
    assert.equal(blocks.length, new Set(lives).size, `interleaved evacuations of several lives: ${blocks.join(' ')}`);
  },
);
