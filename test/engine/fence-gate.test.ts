// Fence gates: evidence only from a confirmed power-off; a hanging fencer yields "no evidence" after the timeout;
// several gates: the first evidence wins, otherwise every reason is reported; the failure's time reaches every gate,
// and FenceHostTask asks about the notification's generated_time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { VirtualEnv } from '../../src/core/env-virtual.ts';
import { fencerGate, firstEvidence, withTimeout } from '../../src/core/engine/index.ts';
import type { FenceGate, FenceQuery, Fencer } from '../../src/core/ports/fence.ts';
import { pacemakerFenceGate } from '../../src/drivers/cluster/pacemaker/fence-evidence.ts';
import { parseCrmMonXml } from '../../src/drivers/cluster/pacemaker/parse-crm-mon.ts';
import type { ClusterDriver } from '../../src/core/ports/cluster.ts';
import { crmMonFile } from '../drivers/cluster/pacemaker/reference.ts';
import { world, HOST_DOWN } from './harness.ts';

const failure: FenceQuery = { failedAt: new Date('2026-01-01T00:00:00Z') };

const hanging: Fencer = {
  kind: 'hang',
  status: () => new Promise(() => {}),
  powerOff: () => new Promise(() => {}),
  powerOn: () => new Promise(() => {}),
};

test('a fencer that never answers gives no evidence once the timeout has passed', async () => {
  const env = new VirtualEnv(0);
  const p = withTimeout(fencerGate(hanging), env, 30_000).confirmFenced('h1', failure);
  await env.run();
  const ev = await p;
  assert.equal(ev.fenced, false);
  assert.match(ev.fenced ? '' : ev.reason, /no fence evidence for host 'h1' within 30 s/);
  assert.equal(env.nowMs(), 30_000);
});

test("when the timeout gives up, the fencer's own operation is aborted too (no power-off left running)", async () => {
  const env = new VirtualEnv(0);
  let aborted = 0;
  const listening: Fencer = {
    kind: 'bmc',
    status: () => new Promise(() => {}),
    powerOff: (_host, signal) =>
      new Promise((_, reject) => {
        signal?.addEventListener('abort', () => {
          aborted++;
          reject(new Error('aborted'));
        });
      }),
    powerOn: () => new Promise(() => {}),
  };
  const p = withTimeout(fencerGate(listening), env, 30_000).confirmFenced('h1', failure);
  await env.run();
  const ev = await p;
  assert.equal(ev.fenced, false);
  assert.equal(aborted, 1, 'the power-off saw the abort');
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
  const ev = await fencerGate(slowOff).confirmFenced('h1', failure);
  assert.equal(ev.fenced, true);
  assert.equal(statusAsked, 1);
});

test('firstEvidence: the first gate with evidence wins; without any, all reasons are listed', async () => {
  const no = (why: string): FenceGate => ({ confirmFenced: async () => ({ fenced: false, source: why, reason: why }) });
  const yes: FenceGate = { confirmFenced: async () => ({ fenced: true, source: 'cluster', evidence: 'stonith history: h1 off' }) };
  const ev = await firstEvidence([no('bmc timeout'), yes]).confirmFenced('h1', failure);
  assert.deepEqual(ev, { fenced: true, source: 'cluster', evidence: 'stonith history: h1 off' });
  const none = await firstEvidence([no('bmc timeout'), no('no history')]).confirmFenced('h1', failure);
  assert.equal(none.fenced, false);
  assert.equal(none.fenced ? '' : none.reason, 'bmc timeout; no history');
});

test('the failure time reaches every gate through firstEvidence and withTimeout, with an abort signal', async () => {
  const asked: { host: string; failedAt: string; hasSignal: boolean }[] = [];
  const recording = (fenced: boolean): FenceGate => ({
    async confirmFenced(host, q) {
      asked.push({ host, failedAt: q.failedAt.toISOString(), hasSignal: q.signal instanceof AbortSignal });
      return fenced ? { fenced, source: 'r', evidence: 'ok' } : { fenced, source: 'r', reason: 'no' };
    },
  });
  const env = new VirtualEnv(0);
  const gate = withTimeout(firstEvidence([recording(false), recording(true)]), env, 30_000);
  const ev = await gate.confirmFenced('h1', { failedAt: new Date('2026-11-22T02:05:40Z') });
  assert.equal(ev.fenced, true);
  assert.deepEqual(asked, [
    { host: 'h1', failedAt: '2026-11-22T02:05:40.000Z', hasSignal: true },
    { host: 'h1', failedAt: '2026-11-22T02:05:40.000Z', hasSignal: true },
  ]);
});

// The engine with Pacemaker's gate over a real recorded crm_mon output (node3 fenced at 2026-11-22 02:05:18Z):
// the same fence history is evidence for the failure it followed, and not for a failure of node3 reported later.
// The recording is parsed before the engine runs: real file I/O while the virtual clock races ahead would let the
// engine's fence timeout fire first.
async function recoverNode3(generatedTime: Date) {
  const recorded = parseCrmMonXml(readFileSync(crmMonFile('03-node3-offline-after-fencing.xml'), 'utf8'), generatedTime);
  const crmMon: ClusterDriver = { name: 'recorded crm_mon', snapshot: async () => recorded };
  const w = await world({ hosts: ['node3', 'h2'] });
  w.cloud.addServer({ id: 'vm1', host: 'node3', metadata: { HA_Enabled: 'true' } });
  w.cloud.powerOff('node3');
  const fence = pacemakerFenceGate({
    driver: crmMon,
    failureToleranceMs: w.config.cluster_safety.pacemaker_evidence.failure_time_tolerance_seconds * 1000,
    maxAgeMs: 10 * 365 * 86_400_000, // the recording is older than any sensible max age
  });
  const e = w.engine('c1', { fence });
  await e.start();
  const r = await w.store.createNotification(
    { uuid: w.env.uuid(), type: 'COMPUTE_HOST', generatedTime, sourceHostUuid: w.hosts.node3!.uuid, payload: HOST_DOWN },
    0,
    w.env.now(),
  );
  if (!r.created) throw new Error('duplicate notification');
  await w.drive(e.process(r.notification.uuid));
  const n = (await w.store.getNotification(r.notification.uuid))!;
  const details = (await w.store.listTasks(n.uuid)).flatMap((t) => t.details.map((d) => `${t.name}: ${d.message}`));
  const vmHost = w.cloud.servers.get('vm1')!.host;
  await e.stop();
  await w.close();
  return { n, details, vmHost };
}

test('FenceHostTask: Pacemaker fenced the host after the reported failure (within tolerance): evacuated', async () => {
  const { n, details, vmHost } = await recoverNode3(new Date('2026-11-22T02:05:40Z'));
  assert.equal(n.status, 'finished', details.join('\n'));
  assert.ok(
    details.some((l) => l.startsWith("FenceHostTask: Host 'node3' is fenced: Pacemaker fenced 'node3'")),
    details.join('\n'),
  );
  assert.equal(vmHost, 'h2');
});

test('FenceHostTask: the only fencing is older than the reported failure: no evidence, nothing evacuated', async () => {
  const { n, details, vmHost } = await recoverNode3(new Date('2026-11-22T03:05:40Z'));
  assert.equal(n.status, 'error');
  const line =
    "FenceHostTask: No fence evidence for host 'node3': Pacemaker's last successful fencing of 'node3' completed " +
    '2026-11-22 02:05:18Z, 3622 s before the failure reported at 2026-11-22T03:05:40.000Z';
  assert.ok(
    details.some((l) => l.startsWith(line)),
    details.join('\n'),
  );
  assert.equal(vmHost, 'node3');
});
