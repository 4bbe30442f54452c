// Chaos: a flood of notifications through the API of two real controller processes (the CLI) sharing one real
// MariaDB. ~10% of the POSTs are exact duplicates of an earlier one, sent shortly after it to the OTHER controller.
// Asserts: every POST is answered 202 or 409 (nothing else, no connection error); every 202 is in the database with
// the uuid the API returned, and the database holds nothing else; at least some duplicates met 409 (the
// cross-controller duplicate check ran); every stored notification reaches a final state.
//
// compute_driver is none: VM STOPPED_FAILED ends error -> retried once -> failed; other events end ignored/finished
// at once. Size: CHAOS_FLOOD_COUNT (default 10000, the figure), CHAOS_FLOOD_CONCURRENCY (default 32). docs/ha.md ("Chaos").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { MariaDbLab, mariadbAvailable, MARIADB_COMPONENT } from '../labs/mariadb/lab.ts';
import { requireComponent } from '../support/components.ts';
import { makeBodies } from './flood-bodies.ts';
import { envInt, FINAL, killAll, postNotification, seededRandom, sleep, startCliController, type ControllerProc } from './helpers.ts';

// 10000 take about 85 s on the 2-core CI machine since duplicate detection is one index probe (migration 0001).
const COUNT = envInt('CHAOS_FLOOD_COUNT', 10_000);
const CONCURRENCY = envInt('CHAOS_FLOOD_CONCURRENCY', 32);
const HOSTS = 20;
const SEED = envInt('CHAOS_SEED', Date.now() % 1_000_000);

const available = mariadbAvailable();
let lab: MariaDbLab | undefined;
let store: Store | undefined;
after(async () => {
  await killAll();
  await store?.close().catch(() => {});
  await lab?.stop();
});

before(async () => {
  if (available) lab = await MariaDbLab.start();
});

test(`flood: ${COUNT} notifications (~10% duplicates) through two controllers on MariaDB, none lost, all final`, { timeout: 600_000 }, async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, available)) return;
  const rand = seededRandom(SEED);
  t.diagnostic(`seed ${SEED} (CHAOS_SEED replays it), ${COUNT} POSTs at concurrency ${CONCURRENCY}`);
  const url = await lab!.createDatabase('flood');
  store = await openMysqlStore({ url, connectionLimit: 2 });
  const seg = await store.createSegment({ name: 'flood', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
  for (let i = 0; i < HOSTS; i++) {
    await store.createHost(
      seg.uuid,
      { name: `flood-${String(i).padStart(2, '0')}`, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false },
      new Date(),
    );
  }
  const env = {
    MASAKARI_DATABASE__URL: url,
    MASAKARI_LOG__LEVEL: 'error',
    MASAKARI_CONTROLLER__COMPUTE_DRIVER: 'none',
    MASAKARI_ENGINE__PROCESS_UNFINISHED_NOTIFICATIONS_INTERVAL: '1',
    MASAKARI_ENGINE__RETRY_NOTIFICATION_NEW_STATUS_INTERVAL: '2',
    MASAKARI_ENGINE__CLAIM_LEASE_SECONDS: '10',
  };
  const ctls: ControllerProc[] = await Promise.all([
    startCliController({ ...env, MASAKARI_CONTROLLER__OWNER_ID: 'flood-a' }),
    startCliController({ ...env, MASAKARI_CONTROLLER__OWNER_ID: 'flood-b' }),
  ]);

  const { bodies, duplicateOf } = makeBodies(rand, COUNT, HOSTS);
  assert.equal(bodies.length, COUNT);
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
        // An original to controller a or b by index; its duplicate to the other one.
        const side = duplicateOf[i] === null ? i % 2 : 1 - (duplicateOf[i]! % 2);
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
  // A group = an original and its duplicates (identical bodies). Its first arrival is accepted; the others meet 409
  // while that one is new/running, or are accepted after it ended (a final one no longer counts as a duplicate).
  // Sent concurrently, the duplicate may arrive first: so per group, at least one 202; 409 only in groups of 2+.
  const groupOf = (i: number) => duplicateOf[i] ?? i;
  const acceptedPerGroup = new Map<number, number>();
  const sizeOf = new Map<number, number>();
  for (let i = 0; i < COUNT; i++) {
    sizeOf.set(groupOf(i), (sizeOf.get(groupOf(i)) ?? 0) + 1);
    if (statuses[i] === 202) acceptedPerGroup.set(groupOf(i), (acceptedPerGroup.get(groupOf(i)) ?? 0) + 1);
  }
  const groupsWithoutAccept = [...sizeOf.keys()].filter((g) => !acceptedPerGroup.has(g));
  assert.deepEqual(
    groupsWithoutAccept.slice(0, 5).map((g) => bodies[g]),
    [],
    'every distinct notification is accepted once at least',
  );
  assert.equal(statuses.filter((s, i) => s === 409 && sizeOf.get(groupOf(i))! < 2).length, 0, 'a 409 only where an identical body was sent too');
  assert.ok(conflicts > 0, 'some duplicates met 409 (the duplicate check ran across the two controllers)');
  assert.ok(
    uuids.every((u, i) => statuses[i] !== 202 || typeof u === 'string'),
    'every 202 carries the notification uuid',
  );

  // Every 202 is in the database, and nothing else is.
  const rows = (await lab!.adminQuery(`SELECT uuid FROM \`${url.split('/').pop()}\`.notifications`)) as { uuid: string }[];
  const inDb = new Set(rows.map((r) => r.uuid));
  const acceptedUuids = uuids.filter((u): u is string => u !== null);
  assert.equal(new Set(acceptedUuids).size, acceptedUuids.length, 'distinct uuids');
  assert.equal(acceptedUuids.filter((u) => !inDb.has(u)).length, 0, 'every 202 is stored');
  assert.equal(inDb.size, acceptedUuids.length, 'the database holds exactly the accepted notifications');

  // All of them reach a final state (error is retried once by the periodic job, then failed).
  const db = url.split('/').pop();
  const deadline = Date.now() + envInt('CHAOS_FLOOD_FINAL_TIMEOUT_S', 300) * 1000;
  let counts: Record<string, number> = {};
  for (;;) {
    const byStatus = (await lab!.adminQuery(`SELECT status, COUNT(*) AS n FROM \`${db}\`.notifications GROUP BY status`)) as { status: string; n: number }[];
    counts = Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)]));
    const unfinished = Object.entries(counts)
      .filter(([s]) => !FINAL.has(s))
      .reduce((a, [, n]) => a + n, 0);
    if (unfinished === 0) break;
    if (Date.now() > deadline) assert.fail(`not all final: ${JSON.stringify(counts)}`);
    await sleep(1000);
  }
  t.diagnostic(`all final after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);
  // The outcome per kind is the expected one (a wrong one would mean a mixed-up or lost notification).
  const stored = (await lab!.adminQuery(`SELECT uuid, status, type, payload FROM \`${db}\`.notifications`)) as {
    uuid: string;
    status: string;
    type: string;
    payload: string;
  }[];
  for (const r of stored) {
    const p = JSON.parse(r.payload) as Record<string, string>;
    const want = r.type === 'VM' ? (p.vir_domain_event === 'STOPPED_FAILED' ? 'failed' : 'ignored') : r.type === 'PROCESS' ? 'finished' : 'ignored';
    assert.equal(r.status, want, `${r.uuid} ${r.type} ${r.payload}`);
  }
  for (const c of ctls) assert.equal(c.child.exitCode, null, 'controllers still running');
});
