// GET /v1/x-masakari/events: the event stream over real controllers on a real SQLite file. A client that
// disconnects and reconnects with Last-Event-ID, across a controller restart and on another controller sharing the
// store, sees every event once and in order; the bounded history; heartbeats; errors in Masakari's format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import * as controller from '../../src/roles/controller.ts';
import { openEventStreams } from '../../src/core/api/resources/extensions/events.ts';
import { openSse, type SseFrame } from './sse-client.ts';
import { createServer } from 'node:net';
import { startCli, waitFor } from '../support/cli.ts';

type Overrides = Record<string, unknown>;

function dataDir(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'obs-sse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startController(dir: string, extra: Overrides = {}) {
  const config = loadConfig({
    env: {},
    overrides: {
      data_dir: dir,
      api: { listen: '127.0.0.1:0' },
      database: { auto_migrate: true },
      controller: { compute_driver: 'none' },
      events: { heartbeat_seconds: 0.5, poll_seconds: 0.2 },
      ...extra,
    },
  });
  const ctl = await controller.start(config, silentLogger);
  const base = `http://127.0.0.1:${ctl.port}/v1`;
  const createSegment = async (name: string) => {
    const r = await fetch(`${base}/segments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ segment: { name, recovery_method: 'auto', service_type: 'COMPUTE' } }),
    });
    assert.equal(r.status, 201);
  };
  return { ctl, base, createSegment, events: `${base}/x-masakari/events` };
}

interface Ev {
  id: number;
  type: string;
  name: string | undefined;
}
const eventsOf = (frames: SseFrame[]): Ev[] =>
  frames
    .filter((f) => f.id !== undefined)
    .map((f) => {
      const d = JSON.parse(f.data!) as { type: string; at: string; payload: { segment?: { name?: string } } };
      assert.equal(d.type, f.event, 'event: and data.type agree');
      assert.ok(!Number.isNaN(Date.parse(d.at)));
      return { id: Number(f.id), type: d.type, name: d.payload.segment?.name };
    });
const segmentEvents = (names: string[]) => names.flatMap((n) => [`segment.create.start ${n}`, `segment.create.end ${n}`]);
const seen = (evs: Ev[]) => evs.filter((e) => e.type.startsWith('segment.')).map((e) => `${e.type} ${e.name}`);

test('Last-Event-ID resume across a controller restart: nothing missed, nothing twice, ids increasing', { timeout: 120_000 }, async (t) => {
  const dir = dataDir(t);
  const one = await startController(dir);
  let stopped = false;
  t.after(() => (stopped ? undefined : one.ctl.stop()));
  const first = await openSse(one.events);
  assert.equal(first.status, 200);
  assert.match(first.headers.get('content-type') ?? '', /^text\/event-stream/);
  await first.until('the stream to open', (f) => f.length > 0);
  for (const n of ['s0', 's1', 's2', 's3', 's4']) await one.createSegment(n);
  await first.until('s2 created', (f) => seen(eventsOf(f)).includes('segment.create.end s2'));
  // The client goes away right after s2's end: what it processed ends there, whatever else was on the wire.
  assert.equal(openEventStreams(), 1);
  first.close();
  await until(async () => (openEventStreams() === 0 ? true : undefined), 10_000); // the server side ends with it
  const part1 = eventsOf(first.frames);
  const cut = part1.findIndex((e) => e.type === 'segment.create.end' && e.name === 's2');
  const kept = part1.slice(0, cut + 1);
  const lastId = kept[kept.length - 1]!.id;

  await one.createSegment('s5');
  await one.ctl.stop();
  stopped = true;
  const two = await startController(dir);
  t.after(() => two.ctl.stop());
  await two.createSegment('s6');

  const second = await openSse(two.events, { 'Last-Event-ID': String(lastId) });
  await second.until('s6 after the resume', (f) => seen(eventsOf(f)).includes('segment.create.end s6'));
  await two.createSegment('s7');
  await second.until('s7, live', (f) => seen(eventsOf(f)).includes('segment.create.end s7'));
  second.close();

  const all = [...kept, ...eventsOf(second.frames)];
  assert.deepEqual(seen(all), segmentEvents(['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']));
  for (let i = 1; i < all.length; i++) assert.ok(all[i]!.id > all[i - 1]!.id, `ids increase: ${all[i - 1]!.id} then ${all[i]!.id}`);
  assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'no id twice');
});

test("two controllers on one store: a stream on one sees the other's events, and resumes on the other", { timeout: 120_000 }, async (t) => {
  const dir = dataDir(t);
  const a = await startController(dir);
  t.after(() => a.ctl.stop());
  const b = await startController(dir);
  t.after(() => b.ctl.stop());
  const onA = await openSse(a.events);
  await onA.until('open', (f) => f.length > 0);
  await a.createSegment('a0');
  await b.createSegment('b0');
  await onA.until('b0 (written by the other controller)', (f) => seen(eventsOf(f)).includes('segment.create.end b0'));
  onA.close();
  const got = eventsOf(onA.frames);
  await a.createSegment('a1');
  await b.createSegment('b1');
  const onB = await openSse(b.events, { 'Last-Event-ID': String(got[got.length - 1]!.id) });
  await onB.until('b1', (f) => seen(eventsOf(f)).includes('segment.create.end b1'));
  onB.close();
  // Each event once; across controllers the order is the order events reached the store (each controller writes its
  // own in batches), so only each segment's start-before-end is fixed.
  const all = seen([...got, ...eventsOf(onB.frames)]);
  assert.deepEqual([...all].sort(), segmentEvents(['a0', 'b0', 'a1', 'b1']).sort());
  for (const n of ['a0', 'b0', 'a1', 'b1']) assert.ok(all.indexOf(`segment.create.start ${n}`) < all.indexOf(`segment.create.end ${n}`), n);
});

test('history: bounded to events.history_size; a resume from before it says what is gone; recovery progress is streamed', { timeout: 120_000 }, async (t) => {
  const dir = dataDir(t);
  const s = await startController(dir, { events: { history_size: 6, heartbeat_seconds: 0.5, poll_seconds: 0.2 } });
  t.after(() => s.ctl.stop());
  for (const n of ['h0', 'h1', 'h2', 'h3', 'h4']) await s.createSegment(n);
  const range = await until(async () => {
    const r = await s.ctl.store.eventIdRange();
    return r.last === 10 ? r : undefined; // all ten events written (a fresh store numbers from 1)
  });
  const c = await openSse(s.events, { 'Last-Event-ID': '0' });
  await c.until('the kept history', (f) => seen(eventsOf(f)).includes('segment.create.end h4'));
  const truncated = c.frames.find((f) => f.event === 'history.truncated');
  assert.ok(truncated, 'a history.truncated frame');
  assert.equal(truncated.id, undefined, 'it has no id of its own');
  assert.deepEqual(JSON.parse(truncated.data!), { requested_after: 0, oldest_available: range.first });
  assert.equal(range.first, 5, 'the newest 6 of 10 are kept');
  assert.deepEqual(seen(eventsOf(c.frames)), segmentEvents(['h2', 'h3', 'h4']));
  // Heartbeat comments while idle.
  await c.until('a heartbeat', (f) => f.some((x) => x.comment === 'heartbeat'), 10_000);

  // A recovery: processing start/end, each task's start and end (no compute driver: the first task fails).
  const seg = (await (await fetch(`${s.base}/segments`)).json()) as { segments: { uuid: string }[] };
  const host = await fetch(`${s.base}/segments/${seg.segments[0]!.uuid}/hosts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ host: { name: 'cmp1', type: 'COMPUTE', control_attributes: 'x' } }),
  });
  assert.equal(host.status, 201);
  const n = await fetch(`${s.base}/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      notification: {
        type: 'VM',
        hostname: 'cmp1',
        generated_time: new Date().toISOString(),
        payload: { event: 'LIFECYCLE', instance_uuid: '6f1b1e3a-6c1f-4b7e-9d7e-0f6c2b9a1d11', vir_domain_event: 'STOPPED_FAILED' },
      },
    }),
  });
  const uuid = ((await n.json()) as { notification: { notification_uuid: string } }).notification.notification_uuid;
  await c.until('the end of processing', (f) => f.some((x) => x.event === 'notification.status' && /"status":"(error|finished|ignored)"/.test(x.data!)));
  c.close();
  const payloads = c.frames.filter((f) => f.id).map((f) => JSON.parse(f.data!) as { type: string; payload: Record<string, unknown> });
  const mine = payloads.filter(
    (p) => p.payload.notification_uuid === uuid || (p.payload.notification as { notification_uuid?: string })?.notification_uuid === uuid,
  );
  const types = mine.map((p) => p.type);
  for (const ty of ['notification.create.end', 'notification.process.start', 'recovery.task.start', 'recovery.task.end', 'notification.status']) {
    assert.ok(types.includes(ty), `${ty} in ${types.join(', ')}`);
  }
  const taskEnd = mine.find((p) => p.type === 'recovery.task.end')!;
  assert.equal(typeof taskEnd.payload.task, 'string');
  assert.ok(['SUCCESS', 'FAILURE'].includes(String(taskEnd.payload.status)));
  const count = await s.ctl.store.eventIdRange();
  assert.ok(count.last - count.first + 1 <= 6, 'the store keeps at most history_size events');
});

test("errors: a malformed Last-Event-ID is a 400 in Masakari's format; the policy rule masakari_ext:events:get guards the stream", async (t) => {
  const dir = dataDir(t);
  const s = await startController(dir, { api: { listen: '127.0.0.1:0', policy: { 'masakari_ext:events:get': '!' } } });
  t.after(() => s.ctl.stop());
  const denied = await fetch(s.events);
  assert.equal(denied.status, 403);
  assert.ok('forbidden' in ((await denied.json()) as object));
  const other = await startController(dataDir(t));
  t.after(() => other.ctl.stop());
  const bad = await fetch(other.events, { headers: { 'Last-Event-ID': 'abc' } });
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { badRequest: { code: number; message: string } };
  assert.equal(body.badRequest.code, 400);
  assert.match(body.badRequest.message, /Last-Event-ID/);
  // The project-scoped path reaches it too (routing-path.ts), with Masakari's project check: under noauth2 the
  // caller has no project, so such a URL is refused there as for every resource.
  const scoped = await fetch(other.events.replace('/v1/', '/v1/0123abcd/'));
  assert.equal(scoped.status, 400);
  assert.match(((await scoped.json()) as { badRequest: { message: string } }).badRequest.message, /URL's project_id '0123abcd'/);
});

async function until<T>(f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('resume across a restart of the controller process (SIGTERM, then a new process on the same database)', { timeout: 180_000 }, async (t) => {
  const dir = dataDir(t);
  const port = await freePort();
  const args = ['--role=controller', '--listen', `127.0.0.1:${port}`, '--database', `sqlite:${join(dir, 'm.sqlite')}`];
  const env = { MASAKARI_DATABASE__AUTO_MIGRATE: 'true', MASAKARI_DATA_DIR: dir };
  const base = `http://127.0.0.1:${port}/v1`;
  const up = (child: ReturnType<typeof startCli>) =>
    waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/`)).ok ? true : undefined), 60_000, `controller on ${port}\n${child.output()}`);
  const create = async (name: string) => {
    const r = await fetch(`${base}/segments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ segment: { name, recovery_method: 'auto', service_type: 'COMPUTE' } }),
    });
    assert.equal(r.status, 201);
  };
  const stopped = (child: ReturnType<typeof startCli>) => new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));

  const first = startCli(args, env);
  t.after(() => first.kill('SIGKILL'));
  await up(first);
  const c1 = await openSse(`${base}/x-masakari/events`);
  await c1.until('open', (f) => f.length > 0);
  await create('p0');
  await create('p1');
  await c1.until('p1', (f) => seen(eventsOf(f)).includes('segment.create.end p1'));
  c1.close();
  const part1 = eventsOf(c1.frames);
  await create('p2'); // after the client left: it must get this one on resume
  // Another client still connected does not hold the shutdown: its stream is ended with the server.
  const open = await openSse(`${base}/x-masakari/events`);
  await open.until('open', (f) => f.length > 0);
  first.kill('SIGTERM');
  await stopped(first);
  assert.equal(first.exitCode, 0, first.output());
  assert.doesNotMatch(first.output(), /did not stop|still running|timed out/i);
  open.close();

  const second = startCli(args, env);
  t.after(() => second.kill('SIGKILL'));
  await up(second);
  await create('p3');
  const c2 = await openSse(`${base}/x-masakari/events`, { 'Last-Event-ID': String(part1[part1.length - 1]!.id) });
  await c2.until('p3', (f) => seen(eventsOf(f)).includes('segment.create.end p3'));
  c2.close();
  const all = [...part1, ...eventsOf(c2.frames)];
  assert.deepEqual(seen(all), segmentEvents(['p0', 'p1', 'p2', 'p3']));
  assert.equal(new Set(all.map((e) => e.id)).size, all.length);
  second.kill('SIGTERM');
  await stopped(second);
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
