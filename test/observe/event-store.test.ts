// The event history in both stores (table `events`, migration 0004): ids in append order, increasing and never
// reused after the trim to the newest N; reads after an id. On MariaDB also end to end: two controllers sharing the
// database, a stream on one resumed on the other.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { openMysqlStore } from '../../src/core/store/mysql/index.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import * as controller from '../../src/roles/controller.ts';
import { MariaDbLab, mariadbAvailable, MARIADB_COMPONENT } from '../labs/mariadb/lab.ts';
import { requireComponent } from '../support/components.ts';
import { openSse } from './sse-client.ts';

async function historyContract(store: Store) {
  assert.deepEqual(await store.eventIdRange(), { first: 0, last: 0 });
  const at = new Date('2026-12-07T07:20:26.123Z');
  const ids = await store.appendEvents(
    [0, 1, 2, 3, 4].map((i) => ({ type: `t.${i}`, at, payload: { i, nested: { ok: true } } })),
    100,
  );
  assert.equal(ids.length, 5);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, 'ids increase in append order');
  const after = await store.listEventsAfter(ids[1]!, 2);
  assert.deepEqual(
    after.map((e) => [e.id, e.type, e.payload]),
    [
      [ids[2], 't.2', { i: 2, nested: { ok: true } }],
      [ids[3], 't.3', { i: 3, nested: { ok: true } }],
    ],
  );
  assert.equal(after[0]!.at.toISOString(), at.toISOString());
  // Trim to the newest 3: ids of deleted events are not given again.
  const more = await store.appendEvents([{ type: 't.5', at, payload: {} }], 3);
  assert.ok(more[0]! > ids[4]!);
  const range = await store.eventIdRange();
  assert.equal(range.last, more[0]);
  assert.equal(range.first, ids[3], 'the newest 3 are kept');
  assert.deepEqual(
    (await store.listEventsAfter(0, 10)).map((e) => e.type),
    ['t.3', 't.4', 't.5'],
  );
}

test('SQLite: the event history', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'obs-evs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ path: join(dir, 'm.sqlite') });
  t.after(() => store.close());
  await historyContract(store);
});

test('MariaDB: the event history, and a stream resumed on another controller sharing the database', { timeout: 300_000 }, async (t) => {
  if (!requireComponent(t, MARIADB_COMPONENT, mariadbAvailable())) return;
  const lab = await MariaDbLab.start();
  // One cleanup, in order (after-hooks run in the order they were added): controllers, then the server.
  const cleanup: (() => Promise<void> | void)[] = [];
  t.after(async () => {
    for (const c of cleanup.reverse()) await c();
    await lab.stop();
  });
  const store = await openMysqlStore({ url: await lab.createDatabase('obs_history') });
  cleanup.push(() => store.close());
  await historyContract(store);

  const url = await lab.createDatabase('obs_stream');
  const dir = mkdtempSync(join(tmpdir(), 'obs-evm-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const start = () =>
    controller.start(
      loadConfig({
        env: {},
        overrides: {
          data_dir: dir,
          api: { listen: '127.0.0.1:0' },
          database: { url, auto_migrate: true },
          controller: { compute_driver: 'none' },
          events: { heartbeat_seconds: 1, poll_seconds: 0.2 },
        },
      }),
      silentLogger,
    );
  const a = await start();
  cleanup.push(() => a.stop());
  const b = await start();
  cleanup.push(() => b.stop());
  const create = async (port: number, name: string) => {
    const r = await fetch(`http://127.0.0.1:${port}/v1/segments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ segment: { name, recovery_method: 'auto', service_type: 'COMPUTE' } }),
    });
    assert.equal(r.status, 201);
  };
  const names = (frames: { id?: string; data?: string }[]) =>
    frames
      .filter((f) => f.id)
      .map(
        (f) => `${(JSON.parse(f.data!) as { type: string }).type} ${(JSON.parse(f.data!) as { payload: { segment: { name: string } } }).payload.segment.name}`,
      );
  const onA = await openSse(`http://127.0.0.1:${a.port}/v1/x-masakari/events`);
  await onA.until('open', (f) => f.length > 0);
  await create(a.port, 'm0');
  await create(b.port, 'm1');
  await onA.until('m1 from the other controller', (f) => names(f).includes('segment.create.end m1'));
  onA.close();
  const seenA = onA.frames.filter((f) => f.id);
  await create(b.port, 'm2');
  const onB = await openSse(`http://127.0.0.1:${b.port}/v1/x-masakari/events`, { 'Last-Event-ID': seenA[seenA.length - 1]!.id! });
  await onB.until('m2', (f) => names(f).includes('segment.create.end m2'));
  onB.close();
  const all = [...seenA, ...onB.frames.filter((f) => f.id)];
  // Each event once. Across controllers the order is the order the events reached the store (each controller writes
  // its events in batches), so only each segment's start-before-end is fixed.
  const got = names(all);
  assert.deepEqual([...got].sort(), ['m0', 'm1', 'm2'].flatMap((n) => [`segment.create.end ${n}`, `segment.create.start ${n}`]).sort());
  for (const n of ['m0', 'm1', 'm2']) assert.ok(got.indexOf(`segment.create.start ${n}`) < got.indexOf(`segment.create.end ${n}`), n);
  const ids = all.map((f) => Number(f.id));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!);
});
