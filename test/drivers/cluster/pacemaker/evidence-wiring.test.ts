// cluster_safety.pacemaker_evidence wired by the controller's backends: off by default; when on, Pacemaker's fence
// history is asked first and a configured fencer second, and without evidence every reason is reported.
// crm_mon is stood in for by `cat` of real recorded crm_mon outputs (the gate only needs the XML).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireComponent, haveCommand } from '../../../support/components.ts';
import { parseConfig } from '../../../../src/core/config/load.ts';
import { silentLogger } from '../../../../src/core/log.ts';
import { createBackends } from '../../../../src/roles/backends.ts';
import { crmMonFile } from './reference.ts';

const YEARS = 10 * 365 * 86400; // the recordings are older than the default max age
// A failure reported just after the recorded fencing of node3 (2026-11-22 02:05:18Z), as the host monitor would.
const failure = { failedAt: new Date('2026-11-22T02:05:40Z') };
const withCat = (file: string, extra: Record<string, unknown> = {}) =>
  parseConfig({ cluster_safety: { pacemaker_evidence: { enabled: true, command: ['cat', crmMonFile(file)], max_age_seconds: YEARS } }, ...extra }, 'test');

test('off by default: no gate without fencing.hosts', async () => {
  const b = await createBackends(parseConfig({}, 'test'), silentLogger);
  assert.equal(b.fence, undefined);
  await b.close();
});

test("on: Pacemaker's evidence is used, and its reasons reported", async () => {
  const fenced = await createBackends(withCat('03-node3-offline-after-fencing.xml'), silentLogger);
  const ev = await fenced.fence!.confirmFenced('node3', failure);
  assert.equal(ev.fenced, true);
  assert.equal(ev.source, 'pacemaker');
  const pending = await createBackends(withCat('02-node3-unclean-fence-pending.xml'), silentLogger);
  const no = await pending.fence!.confirmFenced('node3', failure);
  assert.equal(no.fenced, false);
  assert.match(no.fenced ? '' : no.reason, /still pending/);
  await fenced.close();
  await pending.close();
});

test('on, with a fencer too: Pacemaker first, then the fencer; both reasons when neither has evidence', async (t) => {
  if (!requireComponent(t, 'ipmitool', haveCommand('ipmitool'))) return;
  // A BMC address where nothing answers (UDP port 9 on loopback, one short attempt).
  const fencing = {
    fencing: { hosts: { node3: { kind: 'ipmi', address: '127.0.0.1', port: 9, username: 'admin', password: 'x', retries: 0, timeout_seconds: 2 } } },
  };
  const b = await createBackends(withCat('02-node3-unclean-fence-pending.xml', fencing), silentLogger);
  const ev = await b.fence!.confirmFenced('node3', failure);
  assert.equal(ev.fenced, false);
  const reason = ev.fenced ? '' : ev.reason;
  assert.match(reason, /^Pacemaker's fencing of 'node3' is still pending.*; .*could not power off host 'node3'/);
  await b.close();
});

test('failure_time_tolerance_seconds reaches the gate: a fencing 22 s before the reported failure passes 120 s, not 10 s', async () => {
  const byDefault = await createBackends(withCat('03-node3-offline-after-fencing.xml'), silentLogger);
  assert.equal((await byDefault.fence!.confirmFenced('node3', failure)).fenced, true);
  const strict = parseConfig(
    {
      cluster_safety: {
        pacemaker_evidence: {
          enabled: true,
          command: ['cat', crmMonFile('03-node3-offline-after-fencing.xml')],
          max_age_seconds: YEARS,
          failure_time_tolerance_seconds: 10,
        },
      },
    },
    'test',
  );
  const b = await createBackends(strict, silentLogger);
  const ev = await b.fence!.confirmFenced('node3', failure);
  assert.equal(ev.fenced, false);
  assert.match(ev.fenced ? '' : ev.reason, /22 s before the failure reported at 2026-11-22T02:05:40.000Z \(more than the 10 s allowed/);
  await byDefault.close();
  await b.close();
});
