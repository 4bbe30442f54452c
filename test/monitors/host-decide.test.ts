// The host monitor's decisions, driven by the real crm_mon outputs of a lab cluster in the order they were
// recorded, and by small hand-made snapshots for the rules the recordings do not cover.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCrmMonXml } from '../../src/drivers/cluster/pacemaker/parse-crm-mon.ts';
import {
  decide,
  fencingOf,
  initialHostMonitorState,
  previewSnapshot,
  type DecideOptions,
  type HostMonitorState,
  type HostNotification,
} from '../../src/core/monitors/host/decide.ts';
import type { ClusterNode, ClusterSnapshot } from '../../src/core/ports/cluster.ts';
import { crmMonFile } from '../drivers/cluster/pacemaker/reference.ts';

const opts: DecideOptions = { localNode: 'node1', samples: 1, restrictToRemotes: false, offlineWithoutFencing: 'UNKNOWN' };
const STARTED = { event: 'STARTED', cluster_status: 'ONLINE', host_status: 'NORMAL' };
const STOPPED_NORMAL = { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' };
const STOPPED_UNKNOWN = { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'UNKNOWN' };

const load = (f: string) => parseCrmMonXml(readFileSync(crmMonFile(f), 'utf8'), new Date());

/** Replays files as successive polls; returns the notifications of each poll. */
function replay(files: string[], o: DecideOptions = opts): HostNotification[][] {
  let state: HostMonitorState = initialHostMonitorState();
  return files.map((f) => {
    const r = decide(state, load(f), o);
    state = r.state;
    return r.notifications;
  });
}

test('the recorded lab day: fenced nodes are reported down and safe, their return as started', () => {
  const steps = replay([
    '01-all-online.xml',
    '02-node3-unclean-fence-pending.xml',
    '03-node3-offline-after-fencing.xml',
    '05a-node3-shutting-down.xml',
    '06-node3-offline-clean-shutdown.xml',
    '08-remote1-offline-fenced.xml',
    '09-node3-offline-remote1-offline.xml',
    '11-node2-offline-after-fencing.xml',
    '12-all-online-after-recovery.xml',
  ]);
  assert.deepEqual(steps, [
    [], // 01: everyone is new: remembered only
    [], // 02: node3 UNCLEAN, fencing pending: not down-and-safe yet
    [{ hostname: 'node3', payload: STOPPED_NORMAL }], // 03: fenced after we last saw it up
    [], // 05a: node3 up again but shutting down: not "online"
    [], // 06: offline again, but it was already reported offline
    [{ hostname: 'remote1', payload: STOPPED_NORMAL }], // 08: remote1 fenced (off)
    [], // 09: nothing new
    [
      { hostname: 'node2', payload: STOPPED_NORMAL },
      { hostname: 'node3', payload: STARTED },
      { hostname: 'remote1', payload: STARTED },
    ],
    [{ hostname: 'node2', payload: STARTED }],
  ]);
});

test('a clean shutdown is not a fencing: old fence events do not count, host_status UNKNOWN', () => {
  // node3 was fenced twice before 05a; it then shut down cleanly (06). Those old events must not make 06 "fenced".
  assert.deepEqual(replay(['05a-node3-shutting-down.xml', '12-all-online-after-recovery.xml', '06-node3-offline-clean-shutdown.xml'])[2], [
    { hostname: 'node3', payload: STOPPED_UNKNOWN },
  ]);
  // An operator who trusts clean shutdowns can say so.
  assert.deepEqual(
    replay(['05a-node3-shutting-down.xml', '12-all-online-after-recovery.xml', '06-node3-offline-clean-shutdown.xml'], {
      ...opts,
      offlineWithoutFencing: 'NORMAL',
    })[2],
    [{ hostname: 'node3', payload: STOPPED_NORMAL }],
  );
});

test('the local node is never reported on; restrict_to_remotes watches only remote nodes', () => {
  const asNode3 = replay(['01-all-online.xml', '02-node3-unclean-fence-pending.xml', '03-node3-offline-after-fencing.xml'], {
    ...opts,
    localNode: 'node3',
  });
  assert.deepEqual(asNode3, [[], [], []]);
  const remotesOnly = replay(['12-all-online-after-recovery.xml', '11-node2-offline-after-fencing.xml'], { ...opts, restrictToRemotes: true });
  assert.deepEqual(remotesOnly, [[], []], 'node2 is a member, not a remote');
  const remotes = replay(['01-all-online.xml', '08-remote1-offline-fenced.xml'], { ...opts, restrictToRemotes: true });
  assert.deepEqual(remotes[1], [{ hostname: 'remote1', payload: STOPPED_NORMAL }]);
});

test('monitoring_samples: a status counts only after that many identical polls', () => {
  const o = { ...opts, samples: 3 };
  const steps = replay(
    [
      '01-all-online.xml',
      '01-all-online.xml',
      '01-all-online.xml',
      '03-node3-offline-after-fencing.xml',
      '03-node3-offline-after-fencing.xml',
      '03-node3-offline-after-fencing.xml',
    ],
    o,
  );
  assert.deepEqual(steps, [[], [], [], [], [], [{ hostname: 'node3', payload: STOPPED_NORMAL }]]);
  // A blip (a fenced remote node that looks online for a moment) is not a return.
  const blip = replay(
    [
      '01-all-online.xml',
      '08-remote1-offline-fenced.xml',
      '09-node3-offline-remote1-offline.xml',
      '12-all-online-after-recovery.xml',
      '09-node3-offline-remote1-offline.xml',
    ],
    { ...opts, samples: 2 },
  );
  assert.deepEqual(
    blip.flat().filter((n) => n.hostname === 'remote1'),
    [{ hostname: 'remote1', payload: STOPPED_NORMAL }],
  );
});

// ---- hand-made snapshots for the rules the recordings do not show ----

const node = (name: string, over: Partial<ClusterNode> = {}): ClusterNode => ({
  name,
  type: 'member',
  online: true,
  unclean: false,
  pending: false,
  standby: false,
  maintenance: false,
  shuttingDown: false,
  expectedUp: true,
  ...over,
});
const snap = (nodes: ClusterNode[], over: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
  takenAt: new Date(0),
  quorate: true,
  maintenanceMode: false,
  stonithEnabled: true,
  nodes,
  fenceHistory: [],
  ...over,
});
const fenced = (target: string, completed: string) => ({ target, action: 'reboot', status: 'success' as const, completed, origin: 'node1', delegate: 'node1' });

test('without quorum nothing is decided and nothing is remembered (LP#1878548)', () => {
  const all = snap([node('node1'), node('node2'), node('node3')]);
  let r = decide(initialHostMonitorState(), all, opts);
  // The isolated node1 sees its peers gone and "fenced" by its own partition's view: must not act.
  const partitioned = snap([node('node1'), node('node2', { online: false }), node('node3', { online: false })], {
    quorate: false,
    fenceHistory: [fenced('node2', '2026-11-22 03:00:00Z')],
  });
  const p = decide(r.state, partitioned, opts);
  assert.deepEqual(p.notifications, []);
  assert.match(p.skipped ?? '', /no quorum/);
  assert.equal(p.state, r.state);
  // Cluster-wide maintenance mode: same.
  const m = decide(r.state, { ...partitioned, quorate: true, maintenanceMode: true }, opts);
  assert.deepEqual(m.notifications, []);
  assert.match(m.skipped ?? '', /maintenance mode/);
  // Quorum back, peers fine: still nothing.
  r = decide(r.state, all, opts);
  assert.deepEqual(r.notifications, []);
});

test('unclean stays unreported until fencing succeeds; a failed fencing is not a success', () => {
  let s = decide(initialHostMonitorState(), snap([node('node1'), node('node2')]), opts).state;
  const pending = { target: 'node2', action: 'reboot', status: 'pending' as const, completed: null, origin: 'node1', delegate: null };
  const failed = { ...pending, status: 'failed' as const, completed: '2026-11-22 03:00:00Z' };
  let r = decide(s, snap([node('node1'), node('node2', { online: false, unclean: true })], { fenceHistory: [pending] }), opts);
  assert.deepEqual(r.notifications, []);
  assert.equal(r.reports[0]?.fencing, 'pending');
  s = r.state;
  r = decide(s, snap([node('node1'), node('node2', { online: false, unclean: true })], { fenceHistory: [failed] }), opts);
  assert.deepEqual(r.notifications, []);
  assert.equal(r.reports[0]?.fencing, 'failed');
  s = r.state;
  r = decide(
    s,
    snap([node('node1'), node('node2', { online: false, expectedUp: false })], { fenceHistory: [fenced('node2', '2026-11-22 03:01:00Z'), failed] }),
    opts,
  );
  assert.deepEqual(r.notifications, [{ hostname: 'node2', payload: STOPPED_NORMAL }]);
});

test('offline while its fencing is still pending: wait', () => {
  const s = decide(initialHostMonitorState(), snap([node('node1'), node('node2')]), opts).state;
  const r = decide(
    s,
    snap([node('node1'), node('node2', { online: false })], {
      fenceHistory: [{ target: 'node2', action: 'off', status: 'pending', completed: null, origin: null, delegate: null }],
    }),
    opts,
  );
  assert.deepEqual(r.notifications, []);
  assert.equal(r.reports[0]?.reported, 'online');
});

test('without fence history (legacy crm_mon -X) an offline peer is UNKNOWN, never NORMAL', () => {
  const s = decide(initialHostMonitorState(), snap([node('node1'), node('node2')], { fenceHistory: null }), opts).state;
  const r = decide(s, snap([node('node1'), node('node2', { online: false })], { fenceHistory: null }), opts);
  assert.deepEqual(r.notifications, [{ hostname: 'node2', payload: STOPPED_UNKNOWN }]);
  assert.equal(fencingOf(null, 'node2', null), 'unknown');
  // History that appears only after the node went down cannot be told apart from old history.
  assert.equal(fencingOf([fenced('node2', 'x')], 'node2', null), 'unknown');
});

test('maintenance nodes are not acted on; a peer first seen in maintenance is remembered when it leaves it', () => {
  let r = decide(initialHostMonitorState(), snap([node('node1'), node('node2', { maintenance: true })]), opts);
  assert.equal(r.reports[0]?.reported, null);
  r = decide(r.state, snap([node('node1'), node('node2', { maintenance: true, online: false })]), opts);
  assert.deepEqual(r.notifications, []);
  r = decide(r.state, snap([node('node1'), node('node2', { online: false })]), opts);
  assert.deepEqual(r.notifications, [], 'first real status is only remembered');
  assert.equal(r.reports[0]?.reported, 'offline');
  r = decide(r.state, snap([node('node1'), node('node2')]), opts);
  assert.deepEqual(r.notifications, [{ hostname: 'node2', payload: STARTED }]);
});

test('a node removed from the cluster is forgotten', () => {
  const r = decide(initialHostMonitorState(), snap([node('node1'), node('node2')]), opts);
  const r2 = decide(r.state, snap([node('node1')]), opts);
  assert.deepEqual(Object.keys(r2.state.peers), []);
});

test('preview (monitors host --once) shows what each state would send', () => {
  const p = previewSnapshot(load('08-remote1-offline-fenced.xml'), opts);
  const byName = Object.fromEntries(p.reports.map((r) => [r.name, r.notification?.payload ?? null]));
  assert.deepEqual(byName, { node2: STARTED, node3: STOPPED_NORMAL, remote1: STOPPED_NORMAL });
  const unclean = previewSnapshot(load('02-node3-unclean-fence-pending.xml'), opts);
  assert.equal(unclean.reports.find((r) => r.name === 'node3')?.notification, null);
});
