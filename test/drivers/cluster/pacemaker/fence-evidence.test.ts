// Pacemaker fence evidence: the pure judgement over real crm_mon outputs (recorded from a live cluster) and over
// snapshots varied from them, and the gate wrapper around the real driver reading a saved output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCrmMonXml } from '../../../../src/drivers/cluster/pacemaker/parse-crm-mon.ts';
import { PacemakerDriver } from '../../../../src/drivers/cluster/pacemaker/pacemaker-driver.ts';
import { fenceEvidenceFrom, pacemakerFenceGate, parseFenceTime } from '../../../../src/drivers/cluster/pacemaker/fence-evidence.ts';
import type { ClusterSnapshot, FenceEvent } from '../../../../src/core/ports/cluster.ts';
import { crmMonFile } from './reference.ts';

const HOUR = 3_600_000; // max age used here (the default is 600 s)
const TOLERANCE = 120_000; // the default failure_time_tolerance_seconds
// 03-node3-offline-after-fencing.xml: node3 fenced at 2026-11-22 02:05:18Z.
const soon = new Date('2026-11-22T02:06:00Z');
// The host monitor reports a node only once Pacemaker fenced it: the failure's generated_time follows the fencing.
const reported = new Date('2026-11-22T02:05:40Z');
const load = (name: string) => parseCrmMonXml(readFileSync(crmMonFile(name), 'utf8'), soon);
const opts = { failedAt: reported, failureToleranceMs: TOLERANCE, maxAgeMs: HOUR, now: soon };

test('crm_mon completion times parse in both formats; garbage is null', () => {
  assert.equal(parseFenceTime('2026-11-22 02:05:18Z')?.toISOString(), '2026-11-22T02:05:18.000Z');
  assert.equal(parseFenceTime('Sun Nov 22 02:05:18 2026') instanceof Date, true);
  assert.equal(parseFenceTime('yesterday-ish'), null);
  assert.equal(parseFenceTime(null), null);
});

test('fenced after failing (real output): evidence names the action, the time and who fenced it', () => {
  const ev = fenceEvidenceFrom(load('03-node3-offline-after-fencing.xml'), 'node3', opts);
  assert.equal(ev.fenced, true);
  assert.equal(ev.source, 'pacemaker');
  assert.match(ev.fenced ? ev.evidence : '', /fenced 'node3' \(action reboot, completed 2026-11-22 02:05:18Z, executed by node1, requested by node2\)/);
});

test('UNCLEAN with fencing pending (real output): not fenced, and the reason says pending', () => {
  const ev = fenceEvidenceFrom(load('02-node3-unclean-fence-pending.xml'), 'node3', opts);
  assert.equal(ev.fenced, false);
  assert.match(ev.fenced ? '' : ev.reason, /fencing of 'node3' is still pending/);
});

test('a healthy node is not fenced (real output)', () => {
  const ev = fenceEvidenceFrom(load('01-all-online.xml'), 'node1', opts);
  assert.deepEqual(ev, { fenced: false, source: 'pacemaker', reason: "'node1' is online in the Pacemaker cluster: a running host is not evacuated" });
});

// Variations of one snapshot: node3 offline, history as given.
function snap(history: FenceEvent[] | null, over: Partial<ClusterSnapshot> = {}, node3: { unclean?: boolean; online?: boolean } = {}): ClusterSnapshot {
  const node = (name: string, n: { unclean?: boolean; online?: boolean } = {}) => ({
    name,
    type: 'member' as const,
    online: n.online ?? true,
    unclean: n.unclean ?? false,
    pending: false,
    standby: false,
    maintenance: false,
    shuttingDown: false,
    expectedUp: true,
  });
  return {
    takenAt: soon,
    quorate: true,
    maintenanceMode: false,
    stonithEnabled: true,
    nodes: [node('node1'), node('node2'), node('node3', { online: false, ...node3 })],
    fenceHistory: history,
    ...over,
  };
}
const ev = (status: FenceEvent['status'], completed: string | null, action = 'off'): FenceEvent => ({
  target: 'node3',
  action,
  status,
  completed,
  origin: 'node2',
  delegate: status === 'success' ? 'node1' : null,
});

test('each reason for "not fenced" is reported as such', () => {
  const reason = (s: ClusterSnapshot, host = 'node3') => {
    const r = fenceEvidenceFrom(s, host, opts);
    assert.equal(r.fenced, false);
    return r.fenced ? '' : r.reason;
  };
  const ok = [ev('success', '2026-11-22 02:05:00Z')];
  assert.match(reason(snap(ok, { quorate: false })), /no quorum/);
  assert.match(reason(snap(null)), /no fence history/);
  assert.match(reason(snap(ok), 'node9'), /not a node of the Pacemaker cluster/);
  assert.equal(reason(snap([])), "Pacemaker has no record of fencing 'node3'");
  assert.match(reason(snap(ok, {}, { unclean: true })), /UNCLEAN/);
  // A newer failed attempt (a second failure whose fencing failed) outweighs the older success.
  assert.match(reason(snap([ev('failed', '2026-11-22 02:05:30Z'), ...ok])), /did not succeed \(failed/);
  // Listed out of order: the completion time decides, not the position.
  assert.match(reason(snap([...ok, ev('failed', '2026-11-22 02:05:30Z')])), /did not succeed/);
  assert.match(reason(snap([ev('success', '2026-11-22 02:05:00Z', 'on')])), /was 'on'/);
  // After the failure, but too long ago (an engine retry two hours later).
  const lateRetry = { ...opts, failedAt: new Date('2026-11-22T00:04:50Z') };
  const stale = fenceEvidenceFrom(snap([ev('success', '2026-11-22 00:05:00Z')]), 'node3', lateRetry);
  assert.match(stale.fenced ? '' : stale.reason, /7260 s ago: older than 3600 s/);
  assert.match(reason(snap([ev('success', 'not a time')])), /no readable completion time/);
  assert.match(reason(snap([ev('pending', null), ...ok])), /still pending/);
});

test('the newest success counts, even with an older failure before it; not once the node is online again', () => {
  const h = [ev('success', '2026-11-22 02:05:40Z'), ev('failed', '2026-11-22 02:05:10Z')];
  assert.equal(fenceEvidenceFrom(snap(h), 'node3', opts).fenced, true);
  // Rebooted by the fencing (or powered on): it runs again, maybe with its VMs restarted.
  const back = fenceEvidenceFrom(snap(h, {}, { online: true }), 'node3', opts);
  assert.equal(back.fenced, false);
  assert.match(back.fenced ? '' : back.reason, /online in the Pacemaker cluster/);
});

test('the gate reads crm_mon through the driver; a broken crm_mon is "no evidence" with its error', async () => {
  const good = pacemakerFenceGate({
    driver: new PacemakerDriver({ xmlFile: crmMonFile('03-node3-offline-after-fencing.xml') }),
    failureToleranceMs: TOLERANCE,
    maxAgeMs: HOUR,
    now: () => soon,
  });
  assert.equal((await good.confirmFenced('node3', { failedAt: reported })).fenced, true);
  const broken = pacemakerFenceGate({ driver: new PacemakerDriver({ command: ['/nonexistent/crm_mon'] }), failureToleranceMs: TOLERANCE, maxAgeMs: HOUR });
  const r = await broken.confirmFenced('node3', { failedAt: reported });
  assert.equal(r.fenced, false);
  assert.match(r.fenced ? '' : r.reason, /cannot read Pacemaker's fence history: .*command not found/);
});

// Evidence must postdate the failure: a host fenced for an earlier failure, back, and failed again has not been
// fenced for this failure, whatever its fence history says.
test('a fencing before the failure is not evidence, and the reason names both times', () => {
  const h = [ev('success', '2026-11-22 01:05:00Z')];
  const r = fenceEvidenceFrom(snap(h), 'node3', { ...opts, failedAt: new Date('2026-11-22T02:05:40Z') });
  assert.deepEqual(r, {
    fenced: false,
    source: 'pacemaker',
    reason:
      "Pacemaker's last successful fencing of 'node3' completed 2026-11-22 01:05:00Z, 3640 s before the failure " +
      'reported at 2026-11-22T02:05:40.000Z (more than the 120 s allowed for report delay and clock skew): ' +
      'it belongs to an earlier failure, so it is not evidence for this one',
  });
});

test('a fencing after the failure is evidence', () => {
  const h = [ev('success', '2026-11-22 02:05:50Z')];
  const r = fenceEvidenceFrom(snap(h), 'node3', { ...opts, failedAt: new Date('2026-11-22T02:05:40Z') });
  assert.equal(r.fenced, true);
  assert.match(r.fenced ? r.evidence : '', /completed 2026-11-22 02:05:50Z/);
});

test('the tolerance: a fencing up to that long before the reported failure still counts, not a second more', () => {
  const failedAt = new Date('2026-11-22T02:05:40Z');
  const judge = (completed: string, failureToleranceMs: number) =>
    fenceEvidenceFrom(snap([ev('success', completed)]), 'node3', { ...opts, failedAt, failureToleranceMs });
  assert.equal(judge('2026-11-22 02:03:41Z', TOLERANCE).fenced, true, '119 s before');
  assert.equal(judge('2026-11-22 02:03:40Z', TOLERANCE).fenced, true, 'exactly 120 s before');
  const over = judge('2026-11-22 02:03:39Z', TOLERANCE);
  assert.equal(over.fenced, false, '121 s before');
  assert.match(over.fenced ? '' : over.reason, /121 s before the failure reported at 2026-11-22T02:05:40.000Z \(more than the 120 s allowed/);
  // Without tolerance, only a fencing at or after the reported time counts.
  assert.equal(judge('2026-11-22 02:05:40Z', 0).fenced, true);
  assert.equal(judge('2026-11-22 02:05:39Z', 0).fenced, false);
  // No valid failure time: nothing to judge against, so no evidence (never "anything goes").
  const invalid = fenceEvidenceFrom(snap([ev('success', '2026-11-22 02:05:50Z')]), 'node3', { ...opts, failedAt: new Date(NaN) });
  assert.match(invalid.fenced ? '' : invalid.reason, /no valid time/);
});

test('the judged fencing is the newest: an old success does not stand in for a newer failed attempt', () => {
  // Failed now (fencing of this failure failed); succeeded an hour ago (an earlier failure): never evidence.
  const h = [ev('failed', '2026-11-22 02:05:30Z'), ev('success', '2026-11-22 01:05:00Z')];
  const r = fenceEvidenceFrom(snap(h), 'node3', opts);
  assert.match(r.fenced ? '' : r.reason, /did not succeed/);
});

test('real output: the recorded fencing is evidence for the failure it followed, not for one reported an hour later', async () => {
  const gate = pacemakerFenceGate({
    driver: new PacemakerDriver({ xmlFile: crmMonFile('03-node3-offline-after-fencing.xml') }),
    failureToleranceMs: TOLERANCE,
    maxAgeMs: 2 * HOUR, // so that only the failure time can reject it
    now: () => new Date('2026-11-22T03:06:00Z'),
  });
  assert.equal((await gate.confirmFenced('node3', { failedAt: reported })).fenced, true);
  const later = await gate.confirmFenced('node3', { failedAt: new Date('2026-11-22T03:05:40Z') });
  assert.equal(later.fenced, false);
  assert.match(
    later.fenced ? '' : later.reason,
    /completed 2026-11-22 02:05:18Z, 3622 s before the failure reported at 2026-11-22T03:05:40.000Z .*earlier failure/,
  );
});
