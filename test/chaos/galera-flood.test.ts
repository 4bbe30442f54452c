// Chaos on Galera: an intake flood through three real controller processes (the CLI), each connected to a different
// node of a real three-node MariaDB Galera cluster (its own node first in database.url, the others after it).
// ~10% of the POSTs are exact duplicates of an earlier one, sent shortly after it to ANOTHER controller, so the
// duplicate check runs across nodes: the intake lock rows conflict at commit (certification), and the loser is run
// again and sees the winner. Asserts: every POST answered 202 or 409, exactly once; every distinct body accepted at
// least once, 409 only where an identical body was sent; some duplicates met 409; every 202 stored with its uuid and
// nothing else stored; every notification reaches the final state its kind leads to.
//
// Size: GALERA_FLOOD_COUNT (default 3000: 10000, the figure, takes several minutes on the 2-core CI machine
// with three Galera nodes on it; run it by hand), CHAOS_FLOOD_CONCURRENCY (32), CHAOS_SEED. docs/ha.md ("Galera").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { GaleraLab, galeraLabMissing, GALERA_COMPONENT, type NodeNo } from '../labs/galera/lab.ts';
import { requireComponent } from '../support/components.ts';
import { makeBodies } from './flood-bodies.ts';
import { envInt, FINAL, killAll, postNotification, seededRandom, sleep, startCliController, type ControllerProc } from './helpers.ts';

const COUNT = envInt('GALERA_FLOOD_COUNT', 3000);
const CONCURRENCY = envInt('CHAOS_FLOOD_CONCURRENCY', 32);
const HOSTS = 20;
const SEED = envInt('CHAOS_SEED', Date.now() % 1_000_000);
const missing = galeraLabMissing();
let lab: GaleraLab | undefined;
let store: Store | undefined;

before(async () => {
  if (missing === null) lab = await GaleraLab.start();
});
after(async () => {
  await killAll();
  await store?.close().catch(() => {});
  await lab?.stop();
});

test(`Galera flood: ${COUNT} notifications (~10% duplicates) through three controllers on three nodes`, { timeout: 900_000 }, async (t) => {
  if (!requireComponent(t, `${GALERA_COMPONENT}: ${missing}`, missing === null)) return;
  const rand = seededRandom(SEED);
  t.diagnostic(`seed ${SEED} (CHAOS_SEED replays it), ${COUNT} POSTs at concurrency ${CONCURRENCY}`);
  const db = await lab!.createDatabase('flood');
  store = await openMysqlStore({ url: lab!.url(db, [1, 2, 3]), connectionLimit: 2 });
  const seg = await store.createSegment({ name: 'flood', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
  for (let i = 0; i < HOSTS; i++) {
    const name = `flood-${String(i).padStart(2, '0')}`;
    await store.createHost(seg.uuid, { name, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date());
  }
  const env = (own: NodeNo) => ({
    MASAKARI_DATABASE__URL: lab!.url(db, [own, ...([1, 2, 3] as NodeNo[]).filter((n) => n !== own)]),
    MASAKARI_LOG__LEVEL: 'error',
    MASAKARI_CONTROLLER__COMPUTE_DRIVER: 'none',
    MASAKARI_ENGINE__PROCESS_UNFINISHED_NOTIFICATIONS_INTERVAL: '1',
    MASAKARI_ENGINE__RETRY_NOTIFICATION_NEW_STATUS_INTERVAL: '2',
    MASAKARI_ENGINE__CLAIM_LEASE_SECONDS: '10',
    MASAKARI_CONTROLLER__OWNER_ID: `flood-n${own}`,
  });
  const ctls: ControllerProc[] = await Promise.all(([1, 2, 3] as NodeNo[]).map((n) => startCliController(env(n))));

  const { bodies, duplicateOf } = makeBodies(rand, COUNT, HOSTS);
  const statuses = new Array<number>(COUNT).fill(0);
  const uuids = new Array<string | null>(COUNT).fill(null);
  const others: string[] = [];
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= COUNT) return;
        // An original to controller i % 3; its duplicate to the next controller after its original's.
        const side = duplicateOf[i] === null ? i % 3 : ((duplicateOf[i]! % 3) + 1) % 3;
        try {
          const r = await postNotification(ctls[side]!.port, bodies[i]!);
          statuses[i] = r.status;
          if (r.status === 202) uuids[i] = r.body.notification?.notification_uuid ?? null;
          else if (r.status !== 409) others.push(`#${i}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        } catch (e) {
          statuses[i] = -1;
          others.push(`#${i}: ${(e as Error).message}`);
        }
      }
    }),
  );
  const postSeconds = (Date.now() - t0) / 1000;
  const accepted = statuses.filter((s) => s === 202).length;
  const conflicts = statuses.filter((s) => s === 409).length;
  t.diagnostic(`POSTs: ${accepted} x 202, ${conflicts} x 409 in ${postSeconds.toFixed(1)} s (${(COUNT / postSeconds).toFixed(0)}/s)`);
  assert.deepEqual(others.slice(0, 10), [], 'every POST is answered 202 or 409');
  assert.equal(accepted + conflicts, COUNT);
  const groupOf = (i: number) => duplicateOf[i] ?? i;
  const acceptedPerGroup = new Map<number, number>();
  const sizeOf = new Map<number, number>();
  for (let i = 0; i < COUNT; i++) {
    sizeOf.set(groupOf(i), (sizeOf.get(groupOf(i)) ?? 0) + 1);
    if (statuses[i] === 202) acceptedPerGroup.set(groupOf(i), (acceptedPerGroup.get(groupOf(i)) ?? 0) + 1);
  }
  assert.deepEqual([...sizeOf.keys()].filter((g) => !acceptedPerGroup.has(g)).slice(0, 5), [], 'every distinct notification is accepted once at least');
  assert.equal(statuses.filter((s, i) => s === 409 && sizeOf.get(groupOf(i))! < 2).length, 0, 'a 409 only where an identical body was sent too');
  assert.ok(conflicts > 0, 'some duplicates met 409 across nodes');

  const q = <R>(sql: string) => lab!.query<R>(sql.replaceAll('DB.', `\`${db}\`.`));
  const inDb = new Set((await q<{ uuid: string }[]>('SELECT uuid FROM DB.notifications')).map((r) => r.uuid));
  const acceptedUuids = uuids.filter((u): u is string => u !== null);
  assert.equal(acceptedUuids.length, accepted, 'every 202 carries the notification uuid');
  assert.equal(new Set(acceptedUuids).size, acceptedUuids.length, 'distinct uuids');
  assert.equal(acceptedUuids.filter((u) => !inDb.has(u)).length, 0, 'every 202 is stored');
  assert.equal(inDb.size, acceptedUuids.length, 'the database holds exactly the accepted notifications');

  const deadline = Date.now() + 300_000;
  let counts: Record<string, number> = {};
  for (;;) {
    const byStatus = await q<{ status: string; n: number }[]>('SELECT status, COUNT(*) AS n FROM DB.notifications GROUP BY status');
    counts = Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)]));
    const open = Object.entries(counts)
      .filter(([s]) => !FINAL.has(s))
      .reduce((a, [, n]) => a + n, 0);
    if (open === 0) break;
    if (Date.now() > deadline) assert.fail(`not all final: ${JSON.stringify(counts)}`);
    await sleep(1000);
  }
  t.diagnostic(`all final after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);
  const stored = await q<{ uuid: string; status: string; type: string; payload: string }[]>('SELECT uuid, status, type, payload FROM DB.notifications');
  for (const r of stored) {
    const p = JSON.parse(r.payload) as Record<string, string>;
    const want = r.type === 'VM' ? (p.vir_domain_event === 'STOPPED_FAILED' ? 'failed' : 'ignored') : r.type === 'PROCESS' ? 'finished' : 'ignored';
    assert.equal(r.status, want, `${r.uuid} ${r.type} ${r.payload}`);
  }
  for (const c of ctls) assert.equal(c.child.exitCode, null, 'controllers still running');
});
