// The MySQL store on a real three-node MariaDB Galera cluster (test/labs/galera): the Store contract against node 1
// while a writer keeps committing through nodes 2 and 3 (node 1 applies their write sets all along), then what only
// a cluster has: a node cut off from the others (non-Primary, ER 1047) and a node killed with SIGKILL, with a store
// whose database.url names several nodes (it moves on) and one that names only the lost node (clear errors, and it
// works again once its node is back in the Primary component).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openMysqlStore, DatabaseUnavailableError } from '../../src/core/store/mysql/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { GaleraLab, galeraLabMissing, GALERA_COMPONENT } from '../labs/galera/lab.ts';
import { requireComponent } from '../support/components.ts';
import { runStoreContract } from './contract.ts';

const missing = galeraLabMissing();
const available = missing === null;
let lab: GaleraLab | undefined;
let noise: { stop: () => Promise<number> } | undefined;

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
});
