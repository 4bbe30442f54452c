// The Store contract against a real MariaDB server (a private mariadbd started for this file), plus what only a
// network database has: two stores (two pools, as two controllers) racing on intake and claims.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { MariaDbLab, mariadbAvailable, MARIADB_COMPONENT } from '../labs/mariadb/lab.ts';
import { requireComponent } from '../support/components.ts';
import { runStoreContract } from './contract.ts';

const available = mariadbAvailable();
let lab: MariaDbLab | undefined;

before(async () => {
  if (available) lab = await MariaDbLab.start();
});
after(async () => {
  await lab?.stop();
});

test('MariaDB is available for the MySQL store tests', (t) => {
  requireComponent(t, MARIADB_COMPONENT, available);
});

if (available) {
  // A fresh database per store: the contract assumes an empty store.
  runStoreContract('mysql (MariaDB)', async () => openMysqlStore({ url: await lab!.createDatabase('contract') }));
}

describe('two controllers on one MariaDB database', () => {
  const ROUNDS = 5;
  let a: Store;
  let b: Store;
  let hostUuid: string;

  before(async () => {
    if (!available) return;
    const url = await lab!.createDatabase('race');
    // Two independent pools, as two controller processes would have; both migrate at once (the named lock).
    [a, b] = await Promise.all([openMysqlStore({ url, connectionLimit: 4 }), openMysqlStore({ url, connectionLimit: 4 })]);
    const seg = await a.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
    hostUuid = (await a.createHost(seg.uuid, { name: 'node1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date()))
      .uuid;
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  test('both migrated once', async (t) => {
    if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
    const v = await b.schemaVersion();
    assert.equal(v.current, v.latest);
    assert.deepEqual(await a.migrate(), { applied: [] });
  });

  test('createNotification: identical notifications racing from both stores are stored exactly once', async (t) => {
    if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
    for (let round = 0; round < ROUNDS; round++) {
      const generatedTime = new Date();
      const payload = { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE', round };
      // Four intakes per store, all at once.
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).createNotification(
            { uuid: randomUUID(), type: 'COMPUTE_HOST', generatedTime, sourceHostUuid: hostUuid, payload },
            180_000,
            new Date(),
          ),
        ),
      );
      const created = results.filter((r) => r.created);
      assert.equal(created.length, 1, `round ${round}: ${results.length - created.length} duplicates, ${created.length} created`);
      const winner = created[0]!.created ? created[0]!.notification.uuid : '';
      for (const r of results) if (!r.created) assert.equal(r.existing.uuid, winner);
      const stored = await a.listNotifications({ filters: { sourceHostUuid: hostUuid, type: 'COMPUTE_HOST' }, sort: [], limit: 100 });
      assert.equal(stored.filter((n) => (n.payload as { round?: number }).round === round).length, 1);
    }
  });

  test('claimNotification: exactly one controller wins each notification', async (t) => {
    if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
    for (let round = 0; round < ROUNDS; round++) {
      const r = await a.createNotification(
        { uuid: randomUUID(), type: 'VM', generatedTime: new Date(), sourceHostUuid: hostUuid, payload: { claim: round } },
        0,
        new Date(),
      );
      assert.ok(r.created);
      const now = new Date();
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claimNotification(r.notification.uuid, `ctl-${i}`, 60_000, now, true)),
      );
      const winners = claims.filter((c) => c !== undefined);
      assert.equal(winners.length, 1, `round ${round}`);
      const row = await b.getNotification(r.notification.uuid);
      assert.equal(row!.claimedBy, winners[0]!.claimedBy);
      assert.equal(row!.attempts, 1);
    }
  });

  test('claimHostRecovery: exactly one controller wins a host, also when taking over an expired lease', async (t) => {
    if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
    for (let round = 0; round < ROUNDS; round++) {
      const host = `host-${round}`;
      const t0 = new Date();
      const race = (at: Date, tag: string) =>
        Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claimHostRecovery(host, `n-${tag}-${i}`, `ctl-${i}`, 1000, at)));
      // No row yet: the insert path.
      assert.equal((await race(t0, 'fresh')).filter(Boolean).length, 1, `round ${round}, fresh`);
      // The lease expired: the takeover path.
      assert.equal((await race(new Date(t0.getTime() + 5000), 'expired')).filter(Boolean).length, 1, `round ${round}, takeover`);
    }
  });

  test('appendTask: concurrent appends get distinct consecutive numbers', async (t) => {
    if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
    const r = await a.createNotification(
      { uuid: randomUUID(), type: 'VM', generatedTime: new Date(), sourceHostUuid: hostUuid, payload: { tasks: 1 } },
      0,
      new Date(),
    );
    assert.ok(r.created);
    const seqs = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).appendTask(r.notification.uuid, `task-${i}`, 'PENDING', new Date())));
    assert.deepEqual(
      [...seqs].sort((x, y) => x - y),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
  });
});
