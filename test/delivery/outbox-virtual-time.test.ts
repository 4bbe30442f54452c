// "Retries forever" checked over hours of virtual time (src/core/env-virtual.ts): the outbox keeps trying a
// controller that fails for hours, with gaps that grow and then stay at the cap, and delivers once it answers.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualEnv } from '../../src/core/env-virtual.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Outbox } from '../../src/core/delivery/outbox.ts';
import { LocalTransport } from '../../src/core/delivery/local-transport.ts';
import { conflict } from '../../src/core/domain/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-outbox-vt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a controller failing for three hours: never given up, backoff capped, delivered when it recovers', async () => {
  const env = new VirtualEnv(Date.UTC(2026, 10, 22), 7);
  const attemptsAt: number[] = [];
  const recoversAt = env.nowMs() + 3 * 3600_000;
  const transport = new LocalTransport(async () => {
    attemptsAt.push(env.nowMs());
    if (env.nowMs() < recoversAt) throw new Error('controller unavailable');
  });
  const outbox = new Outbox({
    path: join(dir, 'outbox.sqlite'),
    transport,
    env,
    log: silentLogger,
    backoff: { initialMs: 1000, maxMs: 60_000 },
  });
  outbox.start();
  await outbox.submit({
    type: 'VM',
    hostname: 'compute-1',
    generated_time: '2026-11-22T00:00:00.000000',
    payload: { event: 'LIFECYCLE', instance_uuid: '3f2ab8d2-1c1e-4a57-9d0e-2b8c35c2c001', vir_domain_event: 'STOPPED_FAILED' },
  });
  await env.advance(4 * 3600_000);

  const s = outbox.status();
  assert.equal(s.sent, 1, 'delivered after the controller came back');
  assert.equal(s.pending, 0);
  const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
  // 3 hours at <= 60 s apart: well over 180 attempts, against masakari-monitors' 12.
  assert.ok(attemptsAt.length > 180, `only ${attemptsAt.length} attempts`);
  assert.ok(Math.max(...gaps) <= 60_000, 'never waits longer than the cap');
  assert.ok(
    gaps.slice(-20).every((g) => g >= 30_000),
    'at the cap the jitter stays in [cap/2, cap]',
  );
  assert.ok(gaps[0]! >= 500 && gaps[0]! <= 1000, 'first retry after about the initial delay');
  assert.ok(attemptsAt[attemptsAt.length - 1]! - recoversAt <= 60_000, 'delivered within one capped delay of the recovery');
  await outbox.stop();
});

test('in process (--role=all): a 409 from the controller ends delivery', async () => {
  const env = new VirtualEnv();
  let calls = 0;
  const outbox = new Outbox({
    path: join(dir, 'outbox-409.sqlite'),
    transport: new LocalTransport(async () => {
      calls++;
      throw conflict("Notification received from host compute-1 of type 'COMPUTE_HOST' is ignored as the host is already under maintenance.");
    }),
    env,
    log: silentLogger,
    backoff: { initialMs: 1000, maxMs: 60_000 },
  });
  outbox.start();
  await outbox.submit({
    type: 'COMPUTE_HOST',
    hostname: 'compute-1',
    generated_time: '2026-11-22T00:00:00.000000',
    payload: { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' },
  });
  await env.advance(3600_000);
  assert.equal(calls, 1);
  assert.equal(outbox.status().sent, 1);
  await outbox.stop();
});
