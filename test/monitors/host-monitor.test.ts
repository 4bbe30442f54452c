// The host monitor loop with the real Pacemaker driver: real crm_mon rendering saved CIBs, and recorded crm_mon
// outputs read from a file the test swaps between polls.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realEnv } from '../../src/core/env.ts';
import { silentLogger } from '../../src/core/log.ts';
import { HostMonitor } from '../../src/core/monitors/host/host-monitor.ts';
import { PacemakerDriver } from '../../src/drivers/cluster/pacemaker/pacemaker-driver.ts';
import type { NotificationDraft, NotificationSink } from '../../src/core/ports/notify.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { crmMonFile } from '../drivers/cluster/pacemaker/reference.ts';
import { waitFor } from '../delivery/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-hostmon-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = { samples: 1, restrictToRemotes: false, offlineWithoutFencing: 'UNKNOWN' as const, localNode: 'node1', env: realEnv, log: silentLogger };

test('real crm_mon on saved CIBs: node2 leaves -> STOPPED with host_status UNKNOWN (a CIB has no fence history)', async (t) => {
  if (!requireComponent(t, 'crm_mon (pacemaker-cli-utils)', haveCommand('crm_mon'))) return;
  const cib = join(dir, 'cib.xml');
  copyFileSync(crmMonFile('cib-01-all-online.xml'), cib);
  const drafts: NotificationDraft[] = [];
  const m = new HostMonitor({
    ...base,
    driver: new PacemakerDriver({ env: { CIB_file: cib }, timeoutMs: 20_000 }),
    intervalMs: 60_000,
    sink: { submit: async (d) => void drafts.push(d) },
  });
  await m.poll();
  copyFileSync(crmMonFile('cib-11-node2-offline-after-fencing.xml'), cib);
  const r = await m.poll();
  assert.equal(r.reports.find((x) => x.name === 'node2')?.fencing, 'none');
  assert.equal(drafts.length, 1);
  assert.equal(drafts[0]?.type, 'COMPUTE_HOST');
  assert.equal(drafts[0]?.hostname, 'node2');
  assert.deepEqual(drafts[0]?.payload, { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'UNKNOWN' });
  assert.match(drafts[0]?.generated_time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
});

test('the loop polls on its own, survives a bad answer, and stop() ends it', async () => {
  const out = join(dir, 'crm_mon.xml');
  copyFileSync(crmMonFile('01-all-online.xml'), out);
  const drafts: NotificationDraft[] = [];
  const m = new HostMonitor({
    ...base,
    driver: new PacemakerDriver({ xmlFile: out }),
    intervalMs: 20,
    sink: { submit: async (d) => void drafts.push(d) },
  });
  await m.start();
  await realEnv.sleep(60);
  copyFileSync(crmMonFile('cib-01-all-online.xml'), out); // not crm_mon output: logged, loop goes on
  await realEnv.sleep(60);
  copyFileSync(crmMonFile('02-node3-unclean-fence-pending.xml'), out);
  await realEnv.sleep(60);
  copyFileSync(crmMonFile('03-node3-offline-after-fencing.xml'), out);
  await waitFor('node3 reported', () => drafts.length === 1);
  await m.stop();
  assert.deepEqual(drafts[0]?.payload, { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' });
  assert.equal(drafts[0]?.hostname, 'node3');
});

test('a notification that cannot be queued is decided again at the next poll', async () => {
  const out = join(dir, 'crm_mon-2.xml');
  copyFileSync(crmMonFile('01-all-online.xml'), out);
  const drafts: NotificationDraft[] = [];
  let broken = true;
  const sink: NotificationSink = {
    submit: async (d) => {
      if (broken) throw new Error('disk full');
      drafts.push(d);
    },
  };
  const m = new HostMonitor({ ...base, driver: new PacemakerDriver({ xmlFile: out }), intervalMs: 60_000, sink });
  await m.poll();
  copyFileSync(crmMonFile('03-node3-offline-after-fencing.xml'), out);
  await m.poll();
  assert.equal(drafts.length, 0);
  broken = false;
  await m.poll();
  assert.deepEqual(
    drafts.map((d) => [d.hostname, d.payload.host_status]),
    [['node3', 'NORMAL']],
  );
  await m.poll();
  assert.equal(drafts.length, 1, 'sent once');
});

test('what the monitor knows survives a restart: a peer fenced while the agent was down is still reported', async () => {
  const out = join(dir, 'crm_mon-3.xml');
  const statePath = join(dir, 'host-monitor-state.json');
  copyFileSync(crmMonFile('01-all-online.xml'), out);
  const drafts: NotificationDraft[] = [];
  const sink: NotificationSink = { submit: async (d) => void drafts.push(d) };
  const first = new HostMonitor({ ...base, driver: new PacemakerDriver({ xmlFile: out }), intervalMs: 600_000, sink, statePath });
  await first.poll();
  await first.stop();

  // While the agent is down, node3 fails and is fenced.
  copyFileSync(crmMonFile('03-node3-offline-after-fencing.xml'), out);
  const second = new HostMonitor({ ...base, driver: new PacemakerDriver({ xmlFile: out }), intervalMs: 600_000, sink, statePath });
  await second.start(); // restores, then polls at once
  await waitFor('node3 reported after the restart', () => drafts.length === 1);
  await second.stop();
  assert.deepEqual([drafts[0]?.hostname, drafts[0]?.payload], ['node3', { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' }]);

  // Without the saved state the same restart would only have "remembered" node3 as offline.
  const drafts2: NotificationDraft[] = [];
  const amnesiac = new HostMonitor({
    ...base,
    driver: new PacemakerDriver({ xmlFile: out }),
    intervalMs: 600_000,
    sink: { submit: async (d) => void drafts2.push(d) },
  });
  const r = await amnesiac.poll();
  assert.deepEqual(r.notifications, []);
  assert.deepEqual(drafts2, []);
});

test('a corrupt state file is ignored with a warning, not a crash', async () => {
  const { writeFileSync } = await import('node:fs');
  const { loadHostMonitorState } = await import('../../src/core/monitors/host/state-file.ts');
  const statePath = join(dir, 'corrupt.json');
  writeFileSync(statePath, '{"peers": {"node3": {"samples": ["exploded"], "reported": "online", "fenceKeysWhileUp": []}}}');
  assert.throws(() => loadHostMonitorState(statePath), /entry for node3 is not a valid peer record/);
  writeFileSync(statePath, 'garbage');
  assert.throws(() => loadHostMonitorState(statePath), /is not JSON/);
  assert.equal(loadHostMonitorState(join(dir, 'none.json')), null);
  const out = join(dir, 'crm_mon-4.xml');
  copyFileSync(crmMonFile('01-all-online.xml'), out);
  const m = new HostMonitor({
    ...base,
    driver: new PacemakerDriver({ xmlFile: out }),
    intervalMs: 600_000,
    sink: { submit: async () => undefined },
    statePath,
  });
  await m.start();
  await m.stop();
  // The next save replaced the garbage with a valid state.
  await waitFor('state rewritten', () => {
    try {
      return Object.keys(loadHostMonitorState(statePath)?.peers ?? {}).length === 3;
    } catch {
      return false;
    }
  });
});
