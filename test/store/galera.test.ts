// The MySQL store on a real three-node MariaDB Galera cluster (test/labs/galera): the Store contract against node 1
// while a writer keeps committing through nodes 2 and 3 (node 1 applies their write sets all along), then what only
// a cluster has: a node cut off from the others (non-Primary, ER 1047) and a node killed with SIGKILL, with a store
// whose database.url names several nodes (it moves on) and one that names only the lost node (clear errors, and it
// works again once its node is back in the Primary component). Last, a controller process that reaches the cluster
// through one address, a TCP proxy the test runs, which switches its backend from node to node during a host
// evacuation (dropping every open connection): the controller goes on (intake, claims, its workflow finishes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { realEnv } from '../../src/core/env.ts';
import { SimCloud } from '../../src/drivers/compute/sim/index.ts';
import { openMysqlStore, DatabaseUnavailableError } from '../../src/core/store/mysql/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { GaleraLab, galeraLabMissing, GALERA_COMPONENT, type NodeNo } from '../labs/galera/lab.ts';
import { FINAL, killAll, postNotification, sleep, startControllerProc } from '../chaos/helpers.ts';
import { serveSimCloud, type SimRpcServer } from '../chaos/sim-rpc.ts';
import { requireComponent } from '../support/components.ts';
import { runStoreContract } from './contract.ts';

const missing = galeraLabMissing();
const available = missing === null;
let lab: GaleraLab | undefined;
let noise: { stop: () => Promise<number> } | undefined;
let proxy: SwitchingProxy | undefined;
let rpc: SimRpcServer | undefined;

/**
 * A TCP proxy as simple as HAProxy in tcp mode with one active backend: forwards each new connection to the current
 * backend port; switch() makes another node current and drops every open connection (as a proxy does when its
 * backend fails over), so the client reconnects and lands on the new node.
 */
class SwitchingProxy {
  readonly perBackend = new Map<number, number>();
  private readonly open = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    private backend: number,
  ) {}

  static async start(backend: number): Promise<SwitchingProxy> {
    const server = createServer();
    const p = new SwitchingProxy(server, backend);
    server.on('connection', (client) => p.forward(client));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return p;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  private forward(client: Socket): void {
    const port = this.backend;
    this.perBackend.set(port, (this.perBackend.get(port) ?? 0) + 1);
    const upstream = connect(port, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.open.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.open.delete(a);
        b.destroy();
      });
    }
  }

  switch(backend: number): void {
    this.backend = backend;
    for (const s of this.open) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Commits a stream of small transactions through nodes 2 and 3 until stopped; returns how many. */
async function startNoise(l: GaleraLab): Promise<{ stop: () => Promise<number> }> {
  const db = await l.createDatabase('noise');
  const seed = await openMysqlStore({ url: l.url(db, [2, 3]), connectionLimit: 2 });
  const seg = await seed.createSegment({ name: 'noise', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
  // One host per writer: two writers hammering one (host, type) intake lock row from two nodes without a pause
  // would mostly measure certification conflicts (the flood test covers that contention through the API).
  const hosts: { uuid: string }[] = [];
  for (const name of ['noise-1', 'noise-2']) {
    hosts.push(await seed.createHost(seg.uuid, { name, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date()));
  }
  const writers = [seed, await openMysqlStore({ url: l.url(db, [3, 2]), connectionLimit: 2 })];
  let running = true;
  let count = 0;
  const loops = writers.map(async (s, w) => {
    while (running) {
      await s.createNotification(
        { uuid: randomUUID(), type: 'VM', generatedTime: new Date(), sourceHostUuid: hosts[w]!.uuid, payload: { w, n: count, event: 'LIFECYCLE' } },
        0,
        new Date(),
      );
      count++;
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await Promise.all(writers.map((s) => s.close()));
      return count;
    },
  };
}

before(async () => {
  if (!available) return;
  lab = await GaleraLab.start();
  noise = await startNoise(lab);
});
after(async () => {
  await killAll();
  await rpc?.close();
  await proxy?.close();
  await noise?.stop().catch(() => 0);
  await lab?.stop();
});

test('a Galera cluster is available for the Galera store tests', (t) => {
  requireComponent(t, `${GALERA_COMPONENT}: ${missing}`, available);
});

if (available) {
  // Node 1 only, a fresh database per store (the contract assumes an empty store).
  runStoreContract('mysql (Galera node 1, writes arriving through nodes 2 and 3)', async () =>
    openMysqlStore({ url: lab!.url(await lab!.createDatabase('contract'), [1]) }),
  );
}

describe('Galera faults', () => {
  test('the writes through nodes 2 and 3 went on during the contract suite', async (t) => {
    if (!requireComponent(t, GALERA_COMPONENT, available)) return;
    const n = await noise!.stop();
    noise = undefined;
    t.diagnostic(`${n} notifications committed through nodes 2 and 3 meanwhile`);
    assert.ok(n > 0);
  });

  test('a node cut off loses quorum: a store on it alone fails clearly, a store with a list moves on; both work after', { timeout: 240_000 }, async (t) => {
    if (!requireComponent(t, GALERA_COMPONENT, available)) return;
    const db = await lab!.createDatabase('fault');
    const moves: string[] = [];
    const listed = await openMysqlStore({ url: lab!.url(db, [2, 1, 3]), failoverTimeoutMs: 20_000, onFailover: (e) => moves.push(`${e.from} -> ${e.to}`) });
    const alone = await openMysqlStore({ url: lab!.url(db, [2]), failoverTimeoutMs: 3000 });
    try {
      const seg = await listed.createSegment({ name: 'f', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
      const host = await listed.createHost(
        seg.uuid,
        { name: 'f-1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false },
        new Date(),
      );
      const intake = (s: Store, round: number) =>
        s.createNotification(
          { uuid: randomUUID(), type: 'COMPUTE_HOST', generatedTime: new Date(), sourceHostUuid: host.uuid, payload: { event: 'STOPPED', round } },
          180_000,
          new Date(),
        );
      assert.ok((await intake(alone, 0)).created, 'node 2 serves while it is in the Primary component');

      await lab!.link(2, 'down');
      await lab!.waitFor(async () => (await lab!.status(2)).cluster !== 'Primary', 'node 2 non-Primary', Date.now() + 60_000);
      // The store that knows only node 2: a clear error naming the node and the reason, never a wrong answer.
      await assert.rejects(intake(alone, 1), (e: unknown) => {
        assert.ok(e instanceof DatabaseUnavailableError, String(e));
        assert.match(e.message, /WSREP has not yet prepared node/);
        assert.ok(!e.message.includes(lab!.password), 'no password in the message');
        return true;
      });
      await assert.rejects(alone.claimNotification(randomUUID(), 'ctl-alone', 30_000, new Date(), true), DatabaseUnavailableError);
      // The store with a list leaves node 2 and goes on through node 1; its claims keep working.
      const r = await intake(listed, 2);
      assert.ok(r.created);
      assert.ok(await listed.claimNotification(r.notification.uuid, 'ctl-listed', 30_000, new Date(), true));
      assert.ok(moves.length >= 1 && moves[0]!.startsWith(`127.0.0.1:${lab!.ports.get(2)} -> `), JSON.stringify(moves));
      // Duplicate detection across the cluster: the same notification again, through the store now on node 1.
      const dup = await listed.createNotification(
        {
          uuid: randomUUID(),
          type: 'COMPUTE_HOST',
          generatedTime: r.notification.generatedTime,
          sourceHostUuid: host.uuid,
          payload: { event: 'STOPPED', round: 2 },
        },
        180_000,
        new Date(),
      );
      assert.equal(dup.created, false);

      await lab!.link(2, 'up');
      await lab!.waitSynced([1, 2, 3]);
      // Back in the Primary component: the store on node 2 alone works again and sees what was written meanwhile.
      assert.equal((await alone.getNotification(r.notification.uuid))?.claimedBy, 'ctl-listed');
      assert.ok((await intake(alone, 3)).created);
    } finally {
      await listed.close();
      await alone.close();
    }
  });

  test('a node killed with SIGKILL: a store with a list moves to the next node; the cluster of two goes on', { timeout: 240_000 }, async (t) => {
    if (!requireComponent(t, GALERA_COMPONENT, available)) return;
    const db = await lab!.createDatabase('kill');
    const moves: string[] = [];
    const s = await openMysqlStore({ url: lab!.url(db, [3, 1, 2]), failoverTimeoutMs: 20_000, onFailover: (e) => moves.push(`${e.from} -> ${e.to}`) });
    try {
      const seg = await s.createSegment({ name: 'k', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
      // Writes in flight while the node dies: each either completes or fails with a clear error; none is half done.
      let stop = false;
      const made: string[] = [];
      const failed: string[] = [];
      const writer = (async () => {
        for (let i = 0; !stop; i++) {
          try {
            made.push(
              (await s.createHost(seg.uuid, { name: `k-${i}`, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date()))
                .name,
            );
          } catch (e) {
            failed.push(`${(e as Error).name}: ${(e as Error).message}`);
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 500));
      await lab!.killNode(3);
      await lab!.waitSynced([1, 2]);
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await writer;
      t.diagnostic(`${made.length} hosts created, ${failed.length} failed: ${JSON.stringify(failed.slice(0, 3))}; moves ${JSON.stringify(moves)}`);
      assert.ok(moves.length >= 1, 'the store left the dead node');
      for (const f of failed) assert.match(f, /^DatabaseUnavailableError: .*(unknown|could serve)/);
      // Every host the store said it created is there (read through node 1), and nothing else.
      const listed = (await s.listHostsOfSegment(seg.uuid)).map((h) => h.name).sort();
      const lost = made.filter((n) => !listed.includes(n));
      assert.deepEqual(lost, [], 'no acknowledged write lost');
      assert.ok(listed.length - made.length <= failed.length, 'only a write whose outcome was reported unknown may exist unacknowledged');
    } finally {
      await s.close();
      await lab!.restartNode(3);
      await lab!.waitSynced([1, 2, 3], 180_000);
    }
  });
  test('a controller behind a TCP proxy that switches nodes twice during an evacuation goes on; nothing accepted is lost', { timeout: 300_000 }, async (t) => {
    if (!requireComponent(t, GALERA_COMPONENT, available)) return;
    const db = await lab!.createDatabase('proxy');
    const direct = await openMysqlStore({ url: lab!.url(db, [1, 2, 3]) });
    const INSTANCES = 40;
    const cloud = new SimCloud(realEnv, {
      apiMs: 5,
      evacuateCallMs: 20,
      rebuildMinMs: 1000,
      rebuildMaxMs: 3000,
      stopMs: 200,
      startMs: 200,
      serviceDownMs: 1000,
    });
    try {
      const seg = await direct.createSegment({ name: 'proxy', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
      for (const h of ['cmp01', 'cmp02', 'cmp03']) {
        cloud.addHost(h);
        await direct.createHost(seg.uuid, { name: h, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date());
      }
      for (let i = 0; i < INSTANCES; i++) cloud.addServer({ id: `vm-${String(i).padStart(3, '0')}`, host: 'cmp01', vmState: 'active' });
      rpc = await serveSimCloud(cloud);
      const port = (n: NodeNo) => lab!.ports.get(n)!;
      proxy = await SwitchingProxy.start(port(1));
      const url = `mysql://${encodeURIComponent(lab!.user)}:${encodeURIComponent(lab!.password)}@127.0.0.1:${proxy.port}/${db}`;
      const ctl = await startControllerProc(
        {
          database: { url },
          api: { listen: '127.0.0.1:0' },
          log: { level: 'warn' },
          engine: {
            claim_lease_seconds: 10,
            orphan_scan_interval: 0.5,
            verify_interval: 0.2,
            wait_period_after_evacuation: 60,
            process_unfinished_notifications_interval: 2,
            retry_notification_new_status_interval: 1,
            host_failure_recovery_threads: 4,
          },
          host_failure: { fencing_required: false },
          cluster_safety: { mass_failure: { enabled: false } },
        },
        rpc.url,
        'ctl-proxy',
      );

      // Intake all along: a PROCESS notification every 200 ms.
      const accepted: string[] = [];
      const answers = new Map<number | string, number>();
      let posting = true;
      const poster = (async () => {
        for (let n = 0; posting; n++) {
          try {
            const r = await postNotification(ctl.port, {
              type: 'PROCESS',
              hostname: 'cmp02',
              generated_time: new Date().toISOString(),
              payload: { process_name: `p-${n}`, event: 'STARTED' },
            });
            answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
            if (r.status === 202) accepted.push(r.body.notification!.notification_uuid);
          } catch {
            answers.set('no answer', (answers.get('no answer') ?? 0) + 1);
          }
          await sleep(200);
        }
      })();

      cloud.powerOff('cmp01');
      const post = await postNotification(ctl.port, {
        type: 'COMPUTE_HOST',
        hostname: 'cmp01',
        generated_time: new Date().toISOString(),
        payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
      });
      assert.equal(post.status, 202, JSON.stringify(post.body));
      const uuid = post.body.notification!.notification_uuid;
      const moved = async () =>
        (await direct.listVMoves({ filters: { notificationUuid: uuid }, sort: [], limit: 1000 })).filter((v) => v.status === 'succeeded').length;
      const waitMoved = async (n: number) => {
        const until = Date.now() + 120_000;
        while ((await moved()) < n) {
          const st = (await direct.getNotification(uuid))!.status;
          if (FINAL.has(st)) return;
          if (Date.now() > until) assert.fail(`fewer than ${n} moves after 120 s`);
          await sleep(200);
        }
      };
      const events: string[] = [];
      const t0 = Date.now();
      const acceptedBefore: number[] = [];
      for (const [share, node] of [
        [0.25, 2],
        [0.6, 3],
      ] as const) {
        await waitMoved(Math.floor(INSTANCES * share));
        acceptedBefore.push(accepted.length);
        proxy.switch(port(node));
        events.push(`${((Date.now() - t0) / 1000).toFixed(1)} s: proxy switched to node ${node} (${await moved()} moves done)`);
      }
      const deadline = Date.now() + 180_000;
      let final = (await direct.getNotification(uuid))!;
      while (!FINAL.has(final.status)) {
        if (Date.now() > deadline) assert.fail(`not final: ${final.status}; ${events.join('; ')}`);
        await sleep(300);
        final = (await direct.getNotification(uuid))!;
      }
      events.push(`${((Date.now() - t0) / 1000).toFixed(1)} s: evacuation ${final.status}`);
      await sleep(1000);
      posting = false;
      await poster;
      t.diagnostic(events.join('; '));
      t.diagnostic(
        `POST answers: ${JSON.stringify(Object.fromEntries(answers))}; connections per node port: ${JSON.stringify(Object.fromEntries(proxy.perBackend))}`,
      );
      assert.equal(final.status, 'finished', final.lastError ?? '');
      // The controller's connections went to each node in turn, and intake went on after each switch.
      for (const n of [1, 2, 3] as NodeNo[]) assert.ok((proxy.perBackend.get(port(n)) ?? 0) > 0, `no connection to node ${n}`);
      assert.ok(accepted.length > acceptedBefore[1]!, 'intake went on after the last switch');
      assert.equal(answers.get(500), undefined, 'no 500 answer');
      // Each instance evacuated exactly once, unlocked, active on another host.
      assert.equal(cloud.repeatedEvacuations, 0);
      assert.deepEqual(cloud.violations, []);
      const wrong = [...cloud.servers.values()]
        .filter((s) => s.host === 'cmp01' || s.locked || s.vmState !== 'active' || cloud.evacuations.get(s.id) !== 1)
        .map((s) => `${s.id}: ${s.host} ${s.vmState} locked=${s.locked}`);
      assert.deepEqual(wrong, []);
      assert.equal(await moved(), INSTANCES);
      // Nothing accepted is lost: every 202 is stored and reaches a final state.
      const until = Date.now() + 60_000;
      for (;;) {
        const rows = await Promise.all(accepted.map((u) => direct.getNotification(u)));
        assert.deepEqual(
          accepted.filter((_, i) => !rows[i]),
          [],
          'accepted notifications missing',
        );
        const open = rows.filter((r) => !FINAL.has(r!.status)).length;
        if (open === 0) break;
        if (Date.now() > until) assert.fail(`${open} accepted notifications not final`);
        await sleep(500);
      }
      t.diagnostic(`${accepted.length} PROCESS notifications accepted, all stored and final`);
    } finally {
      await killAll();
      await rpc?.close();
      rpc = undefined;
      await proxy?.close();
      proxy = undefined;
      await direct.close();
    }
  });
});
