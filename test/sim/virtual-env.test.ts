// The virtual clock: timers in order, sleeps that abort, deterministic randomness, and polling on virtual time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualEnv } from '../../src/core/env-virtual.ts';
import { AbortError } from '../../src/core/env.ts';
import { pollUntil } from '../../src/core/engine/poll.ts';

test('timers fire in time order, equal times in creation order, and time only moves when run', async () => {
  const env = new VirtualEnv(0);
  const seen: string[] = [];
  env.setTimer(() => seen.push('b@20'), 20);
  env.setTimer(() => seen.push('a@10'), 10);
  env.setTimer(() => seen.push('c@20'), 20);
  const cancelled = env.setTimer(() => seen.push('never'), 5);
  cancelled.cancel();
  assert.equal(env.nowMs(), 0);
  await env.run();
  assert.deepEqual(seen, ['a@10', 'b@20', 'c@20']);
  assert.equal(env.nowMs(), 20);
});

test('run(until) stops at the deadline and leaves later timers pending', async () => {
  const env = new VirtualEnv(0);
  let fired = false;
  env.setTimer(() => (fired = true), 1000);
  await env.run(999);
  assert.equal(fired, false);
  assert.equal(env.nowMs(), 999);
  await env.advance(1);
  assert.equal(fired, true);
});

test('sleep chains settle between timers; an aborted sleep rejects with AbortError', async () => {
  const env = new VirtualEnv(0);
  const steps: number[] = [];
  const worker = (async () => {
    for (let i = 0; i < 3; i++) {
      await env.sleep(100);
      steps.push(env.nowMs());
    }
  })();
  await env.run();
  await worker;
  assert.deepEqual(steps, [100, 200, 300]);
  const ac = new AbortController();
  const s = assert.rejects(env.sleep(1000, ac.signal), (e: unknown) => e instanceof AbortError);
  ac.abort();
  await s;
  assert.equal(env.nextAt(), undefined, 'the aborted sleep left no timer behind');
});

test('the same seed gives the same random numbers and uuids', () => {
  const a = new VirtualEnv(0, 42);
  const b = new VirtualEnv(0, 42);
  const c = new VirtualEnv(0, 43);
  const seq = (e: VirtualEnv) => [e.random(), e.random(), e.uuid()];
  const sa = seq(a);
  assert.deepEqual(sa, seq(b));
  assert.notDeepEqual(sa.slice(0, 2), seq(c).slice(0, 2));
  for (const x of sa.slice(0, 2) as number[]) assert.ok(x >= 0 && x < 1);
});

test('pollUntil: true as soon as the check holds, false at the timeout, never a fixed sleep', async () => {
  const env = new VirtualEnv(0);
  let ready = false;
  env.setTimer(() => (ready = true), 2_500);
  const p = pollUntil(env, async () => ready, { intervalMs: 1_000, timeoutMs: 10_000 });
  await env.run();
  assert.equal(await p, true);
  assert.equal(env.nowMs(), 3_000, 'noticed at the first poll after it became true');
  const q = pollUntil(env, async () => false, { intervalMs: 1_000, timeoutMs: 2_500 });
  await env.run();
  assert.equal(await q, false);
  assert.equal(env.nowMs(), 5_500);
});
