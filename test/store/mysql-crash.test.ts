// Failure modes with a real MariaDB: the database server crashes (SIGKILL) right after a notification was accepted.
// The notification must be there after the server's crash recovery (invariant 1: durable before 202), operations
// while it is down must fail promptly (not hang), and the same store (its pool) must work again once it is back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { MariaDbLab, mariadbAvailable, MARIADB_COMPONENT } from '../labs/mariadb/lab.ts';
import { requireComponent } from '../support/components.ts';

const available = mariadbAvailable();
let lab: MariaDbLab | undefined;
let store: Store | undefined;
before(async () => {
  if (available) lab = await MariaDbLab.start();
});
after(async () => {
  await store?.close();
  await lab?.stop();
});

test('a server crash loses no accepted notification, and the store reconnects', { timeout: 120_000 }, async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  store = await openMysqlStore({ url: await lab!.createDatabase('crash'), connectionLimit: 4 });
  const s = store;
  const seg = await s.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
  const host = await s.createHost(seg.uuid, { name: 'node1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date());
  const accepted: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await s.createNotification(
      { uuid: randomUUID(), type: 'VM', generatedTime: new Date(), sourceHostUuid: host.uuid, payload: { i } },
      0,
      new Date(),
    );
    assert.ok(r.created);
    accepted.push(r.notification.uuid);
  }
  await lab!.crash(); // at once: no clean shutdown, no chance to flush anything more

  const started = Date.now();
  await assert.rejects(s.getNotification(accepted[0]!));
  assert.ok(Date.now() - started < 15_000, 'a failing operation does not hang');

  await lab!.restart();
  // The same pool: dead connections are dropped, new ones are opened.
  for (const uuid of accepted) assert.equal((await s.getNotification(uuid))?.status, 'new', uuid);
  const again = await s.createNotification(
    { uuid: randomUUID(), type: 'VM', generatedTime: new Date(), sourceHostUuid: host.uuid, payload: { after: true } },
    0,
    new Date(),
  );
  assert.ok(again.created);
  assert.ok(await s.claimNotification(again.notification.uuid, 'ctl', 60_000, new Date(), true));
});
