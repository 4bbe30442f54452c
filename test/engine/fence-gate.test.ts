// Fence gates: evidence only from a confirmed power-off; a hanging fencer yields "no evidence" after the timeout;
// several gates: the first evidence wins, otherwise every reason is reported.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualEnv } from '../../src/core/env-virtual.ts';
import { fencerGate, firstEvidence, withTimeout } from '../../src/core/engine/index.ts';
import type { FenceGate, Fencer } from '../../src/core/ports/fence.ts';

const hanging: Fencer = {
  kind: 'hang',
  status: () => new Promise(() => {}),
  powerOff: () => new Promise(() => {}),
  powerOn: () => new Promise(() => {}),
};

test('a fencer that never answers gives no evidence once the timeout has passed', async () => {
  const env = new VirtualEnv(0);
  const p = withTimeout(fencerGate(hanging), env, 30_000).confirmFenced('h1');
  await env.run();
  const ev = await p;
  assert.equal(ev.fenced, false);
  assert.match(ev.fenced ? '' : ev.reason, /no fence evidence for host 'h1' within 30 s/);
  assert.equal(env.nowMs(), 30_000);
});

test('a power-off answer that is not "off" is checked with a status query', async () => {
  let statusAsked = 0;
  const slowOff: Fencer = {
    kind: 'bmc',
    async status() {
      statusAsked++;
      return 'off';
    },
    async powerOff() {
      return { confirmed: 'unknown', evidence: 'command accepted' };
    },
    async powerOn() {
      return { confirmed: 'on', evidence: '' };
    },
  };
  const ev = await fencerGate(slowOff).confirmFenced('h1');
  assert.equal(ev.fenced, true);
  assert.equal(statusAsked, 1);
});

test('firstEvidence: the first gate with evidence wins; without any, all reasons are listed', async () => {
  const no = (why: string): FenceGate => ({ confirmFenced: async () => ({ fenced: false, source: why, reason: why }) });
  const yes: FenceGate = { confirmFenced: async () => ({ fenced: true, source: 'cluster', evidence: 'stonith history: h1 off' }) };
  const ev = await firstEvidence([no('bmc timeout'), yes]).confirmFenced('h1');
  assert.deepEqual(ev, { fenced: true, source: 'cluster', evidence: 'stonith history: h1 off' });
  const none = await firstEvidence([no('bmc timeout'), no('no history')]).confirmFenced('h1');
  assert.equal(none.fenced, false);
  assert.equal(none.fenced ? '' : none.reason, 'bmc timeout; no history');
});
