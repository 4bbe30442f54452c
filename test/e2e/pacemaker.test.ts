// Host failure on a REAL Pacemaker cluster (test/labs/pacemaker: Corosync + Pacemaker, 3 nodes + 1 pacemaker-remote
// node in network namespaces, STONITH by fence_ipmilan against simulated IPMI BMCs). The cluster is started once for
// the file (~25 s); the scenarios run in order on it (each starts from the state the previous one left: node3 fenced
// and back, node2 shut down cleanly and back, node3 fenced again, then remote1) and it is torn down in after(),
// whatever happened. About 100 s in all.
//
// Our side runs in process: the real host monitor reading crm_mon inside node1 (decide.ts unchanged), the real
// engine and SQLite store, the Pacemaker fence-evidence gate reading crm_mon inside node1 as its only gate, and the
// simulated cloud (src/drivers/compute/sim) whose hosts node1..3 mirror the lab nodes' real power, so the cloud
// records a violation if a VM were ever started elsewhere while its host still ran (invariant 2).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { requireComponent } from '../support/components.ts';
import { labHostMonitor, PacemakerLab, pacemakerLabMissing, pacemakerRemoteMissing } from '../labs/pacemaker/lab.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { createEngine, type Engine } from '../../src/core/engine/index.ts';
import { realEnv } from '../../src/core/env.ts';
import { silentLogger } from '../../src/core/log.ts';
import { HostMonitor } from '../../src/core/monitors/host/host-monitor.ts';
import type { NotificationDraft } from '../../src/core/ports/notify.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { SimCloud, SimComputeDriver } from '../../src/drivers/compute/sim/index.ts';
import { pacemakerFenceGate } from '../../src/drivers/cluster/pacemaker/fence-evidence.ts';
import type { FenceGate } from '../../src/core/ports/fence.ts';

const missing = pacemakerLabMissing();
const COMPONENT = `Corosync + Pacemaker + ipmi_sim + fence_ipmilan lab (${missing ?? 'present'}; .ci/install.d/pacemaker.packages)`;
const remoteMissing = missing ?? pacemakerRemoteMissing();
const REMOTE = `the pacemaker-remote node of the lab (${remoteMissing ?? 'present'})`;
// node1 is the "controller" node: it runs the host monitor and answers the fence-evidence gate, and is no compute
// host. The segment is node2, node3 and remote1, so two of them failing is "2 of 3" for the mass-failure guard.
const COMPUTE = remoteMissing ? ['node2', 'node3'] : ['node2', 'node3', 'remote1'];
const POWER: [string, 1 | 2 | 3 | 'r1'][] = [
  ['node1', 1],
  ['node2', 2],
  ['node3', 3],
  ['remote1', 'r1'],
];

interface Sent {
  by: string;
  draft: NotificationDraft;
  uuid: string;
}

describe('host failure on a real Pacemaker cluster', { timeout: 600_000 }, () => {
  let lab: PacemakerLab | undefined;
  let store: Store;
  let cloud: SimCloud;
  let engine: Engine;
  const hostUuid: Record<string, string> = {};
  const sent: Sent[] = [];
  /** Every draft a monitor submitted, even one the store would refuse (a node outside the segment). */
  const submitted: { by: string; draft: NotificationDraft }[] = [];
  const processing: Promise<unknown>[] = [];

  /** The simulated cloud's hosts follow the lab nodes' real power (a fenced node is a dead hypervisor). */
  const mirrorPower = () => {
    for (const [name, key] of POWER) if (cloud.hosts.has(name)) lab!.nodeIsOn(key) ? cloud.powerOn(name) : cloud.powerOff(name);
  };

  /** Stores a notification (as the API would) and hands it to the engine. */
  async function accept(by: string, draft: NotificationDraft): Promise<string> {
    mirrorPower();
    const uuid = randomUUID();
    const r = await store.createNotification(
      { uuid, type: draft.type, generatedTime: new Date(), sourceHostUuid: hostUuid[draft.hostname]!, payload: draft.payload },
      0,
      new Date(),
    );
    assert.ok(r.created);
    sent.push({ by, draft, uuid });
    processing.push(engine.process(uuid));
    return uuid;
  }

  const monitor = (node: number) =>
    labHostMonitor(lab!, node, async (d) => {
      submitted.push({ by: `monitor@node${node}`, draft: d });
      await accept(`monitor@node${node}`, d);
    });

  /** Polls a monitor until `until` holds (bounded); returns the last decision. */
  async function pollUntil(m: HostMonitor, until: (r: Awaited<ReturnType<HostMonitor['poll']>>) => boolean, what: string, timeoutMs = 90_000) {
    let last: Awaited<ReturnType<HostMonitor['poll']>> | undefined;
    await lab!.waitFor(async () => until((last = await m.poll())), what, timeoutMs);
    return last!;
  }

  const notification = async (uuid: string) => {
    await Promise.all(processing);
    return (await store.getNotification(uuid))!;
  };
  const details = async (uuid: string) => (await store.listTasks(uuid)).flatMap((t) => t.details.map((d) => `${t.name}: ${d.message}`));

  let m1: HostMonitor;
  let fence: FenceGate;

  before(async () => {
    if (missing) return;
    lab = new PacemakerLab();
    await lab.start({ remote: !remoteMissing });
    store = openSqliteStore({ path: ':memory:' });
    cloud = new SimCloud(realEnv, { apiMs: 5, evacuateCallMs: 20, rebuildMinMs: 200, rebuildMaxMs: 400, stopMs: 100, startMs: 100, serviceDownMs: 1000 });
    const config = parseConfig(
      {
        host_failure: { auto_unset_maintenance_on_return: true },
        engine: { wait_period_after_service_update: 30, wait_period_after_evacuation: 30, verify_interval: 0.2, wait_period_after_power_off: 60 },
      },
      'pacemaker e2e',
    );
    const segment = await store.createSegment({ name: 'pcmk', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
    cloud.addHost('node1');
    for (const name of COMPUTE) {
      hostUuid[name] = (
        await store.createHost(segment.uuid, { name, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date())
      ).uuid;
      cloud.addHost(name);
    }
    cloud.addServer({ id: 'vm-a', host: 'node3', metadata: { HA_Enabled: 'true' } });
    cloud.addServer({ id: 'vm-b', host: 'node3', metadata: { HA_Enabled: 'true' } });
    // The only evidence the engine may use is Pacemaker's fence history, read inside a node of the majority.
    fence = pacemakerFenceGate({ driver: lab.driver(1), failureToleranceMs: 120_000, maxAgeMs: 600_000 });
    engine = createEngine({ store, compute: new SimComputeDriver(cloud), fence, config, env: realEnv, log: silentLogger, ownerId: 'e2e', periodic: false });
    await engine.start();
    m1 = monitor(1);
    // Learn the peers as online (the first sight of a peer is only remembered).
    const peers = remoteMissing ? 2 : 3;
    await pollUntil(m1, (r) => r.reports.filter((x) => x.reported === 'online').length === peers, 'every peer remembered online');
  });

  after(async () => {
    await engine?.stop().catch(() => undefined);
    await store?.close();
    await lab?.teardown();
  });

  it('node killed -> UNCLEAN -> fenced by Pacemaker -> STOPPED/NORMAL -> evidence found -> VMs evacuated', async (t) => {
    if (!requireComponent(t, COMPONENT, !missing)) return;
    lab!.killNode(3);
    const seen = new Set<string>();
    await pollUntil(
      m1,
      (r) => {
        for (const x of r.reports) if (x.name === 'node3') seen.add(`${x.condition}/${x.fencing}`);
        return sent.some((s) => s.draft.hostname === 'node3');
      },
      'host notification for node3',
    );
    const s = sent.find((x) => x.draft.hostname === 'node3')!;
    assert.deepEqual(s.draft.payload, { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' }, `conditions seen: ${[...seen].join(', ')}`);
    assert.equal(lab!.nodeIsOn(3), false, 'the node is really off');

    const n = await notification(s.uuid);
    assert.equal(n.status, 'finished', `${n.lastError}\n${(await details(s.uuid)).join('\n')}`);
    const lines = await details(s.uuid);
    assert.ok(
      lines.some((l) => /^FenceHostTask: Host 'node3' is fenced: Pacemaker fenced 'node3' \(action off, completed .*executed by node/.test(l)),
      lines.join('\n'),
    );
    for (const vm of ['vm-a', 'vm-b']) assert.notEqual(cloud.servers.get(vm)!.host, 'node3', `${vm} was evacuated`);
    assert.deepEqual(cloud.violations, []);
    assert.equal((await store.getHost(hostUuid.node3!))!.onMaintenance, true);
    // The same real fence history proves nothing about a later failure of node3 (say it came back and failed again
    // five minutes on): that fencing is older than the failure.
    const later = await fence.confirmFenced('node3', { failedAt: new Date(n.generatedTime.getTime() + 300_000) });
    assert.equal(later.fenced, false);
    assert.match(
      later.fenced ? '' : later.reason,
      /^Pacemaker's last successful fencing of 'node3' completed .* s before the failure reported at .*earlier failure/,
    );
  });

  it('the fenced node is powered on again -> STARTED -> taken out of maintenance (auto_unset_maintenance_on_return)', async (t) => {
    if (!requireComponent(t, COMPONENT, !missing)) return;
    const before = sent.length;
    await lab!.ipmi(3, 'chassis', 'power', 'on');
    await pollUntil(m1, () => sent.length > before, 'STARTED for node3');
    const s = sent[before]!;
    assert.equal(s.draft.hostname, 'node3');
    assert.deepEqual(s.draft.payload, { event: 'STARTED', cluster_status: 'ONLINE', host_status: 'NORMAL' });
    assert.equal((await notification(s.uuid)).status, 'finished');
    assert.equal((await store.getHost(hostUuid.node3!))!.onMaintenance, false);
  });

  it('clean shutdown of node2 -> STOPPED/UNKNOWN -> ignored, nothing moved; started again -> STARTED', async (t) => {
    if (!requireComponent(t, COMPONENT, !missing)) return;
    cloud.addServer({ id: 'vm-2', host: 'node2', metadata: { HA_Enabled: 'true' } });
    const before = sent.length;
    lab!.shutdownNode(2);
    await pollUntil(m1, () => sent.length > before, 'host notification for node2');
    const s = sent[before]!;
    assert.equal(s.draft.hostname, 'node2');
    // It left the cluster; nobody fenced it: its VMs may still run, so the host is not "down and safe".
    assert.deepEqual(s.draft.payload, { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'UNKNOWN' });
    const n = await notification(s.uuid);
    assert.equal(n.status, 'ignored');
    assert.equal(cloud.servers.get('vm-2')!.host, 'node2');
    assert.deepEqual(cloud.violations, []);

    await lab!.waitFor(() => !lab!.nodeIsOn(2), 'node2 stopped', 60_000);
    await lab!.ipmi(2, 'chassis', 'power', 'on');
    await pollUntil(m1, () => sent.length > before + 1, 'STARTED for node2');
    const up = sent[before + 1]!;
    assert.equal(up.draft.hostname, 'node2');
    assert.deepEqual(up.draft.payload, { event: 'STARTED', cluster_status: 'ONLINE', host_status: 'NORMAL' });
    assert.equal((await notification(up.uuid)).status, 'finished');
    assert.equal((await store.getHost(hostUuid.node2!))!.onMaintenance, false);
  });

  it('partition isolating node3 with its BMC down: the isolated side does nothing, no evidence -> no evacuation; BMC back -> fenced -> evacuated', async (t) => {
    if (!requireComponent(t, COMPONENT, !missing)) return;
    cloud.addServer({ id: 'vm-c', host: 'node3', metadata: { HA_Enabled: 'true' } });
    const m3 = monitor(3);
    await pollUntil(m3, (r) => r.reports.some((x) => x.name === 'node1' && x.reported === 'online'), 'node3 monitor learning its peers');
    // node3's stable online state is known to m1 (the STARTED above): wait until a sample of it is in.
    await pollUntil(m1, (r) => r.reports.some((x) => x.name === 'node3' && x.condition === 'online' && x.stable === 'online'), 'node3 stable online');

    const before = sent.length;
    lab!.bmcStop(3);
    await lab!.link(3, 'down');
    // The isolated node loses quorum: its monitor decides nothing about the peers it can no longer see.
    const iso = await pollUntil(m3, (r) => r.skipped !== null, 'node3 without quorum');
    assert.match(iso.skipped!, /no quorum/);
    assert.ok(iso.reports.some((x) => x.name === 'node1'));
    // The majority sees node3 UNCLEAN; its fencing cannot finish: nothing is sent.
    await pollUntil(m1, (r) => r.reports.some((x) => x.name === 'node3' && x.stable === 'unclean'), 'node3 UNCLEAN on the majority side');
    for (let i = 0; i < 3; i++) assert.equal((await m3.poll()).notifications.length, 0);
    assert.equal(sent.length, before, 'no monitor sent anything');
    assert.deepEqual(
      submitted.filter((x) => x.by === 'monitor@node3'),
      [],
      'the isolated node never reported its peers',
    );
    assert.equal(lab!.nodeIsOn(3), true, 'node3 still runs (its VMs too): it is only cut off');

    // A STOPPED/NORMAL arrives anyway (a masakari-hostmonitor elsewhere, an operator): no evidence, no evacuation.
    const forced = await accept('operator', {
      type: 'COMPUTE_HOST',
      hostname: 'node3',
      generated_time: '',
      payload: { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' },
    });
    const refused = await notification(forced);
    assert.equal(refused.status, 'error');
    assert.match(refused.lastError ?? '', /No fence evidence for host 'node3': .*(still pending|UNCLEAN|did not succeed)/);
    assert.equal(cloud.servers.get('vm-c')!.host, 'node3', 'vm-c was not moved');
    assert.deepEqual(cloud.violations, []);

    // The BMC comes back: Pacemaker's retried fencing powers node3 off, the monitor reports it, evidence is found.
    await lab!.bmcStart(3);
    await pollUntil(m1, () => sent.length > before + 1, 'STOPPED for node3 after fencing', 120_000);
    const s = sent[before + 1]!;
    assert.equal(s.by, 'monitor@node1');
    assert.deepEqual(s.draft.payload, { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' });
    assert.equal(lab!.nodeIsOn(3), false, 'fencing powered node3 off');
    const n = await notification(s.uuid);
    assert.equal(n.status, 'finished', `${n.lastError}\n${(await details(s.uuid)).join('\n')}`);
    assert.notEqual(cloud.servers.get('vm-c')!.host, 'node3');
    assert.deepEqual(cloud.violations, []);
  });

  it('remote node failure -> fenced -> reported; with node3 also failed, 2 of 3 hosts: the mass-failure guard pauses evacuation', async (t) => {
    if (!requireComponent(t, COMPONENT, !missing)) return;
    if (!requireComponent(t, REMOTE, !remoteMissing)) return;
    cloud.addServer({ id: 'vm-r', host: 'remote1', metadata: { HA_Enabled: 'true' } });
    const before = sent.length;
    lab!.killNode('r1'); // pacemaker-remoted dies with its node
    const seen = new Set<string>();
    await pollUntil(
      m1,
      (r) => {
        for (const x of r.reports) if (x.name === 'remote1') seen.add(`${x.condition}/${x.fencing}`);
        return sent.length > before;
      },
      'host notification for remote1',
    );
    const s = sent[before]!;
    assert.equal(s.draft.hostname, 'remote1');
    assert.deepEqual(s.draft.payload, { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' }, `conditions seen: ${[...seen].join(', ')}`);
    // Pacemaker did fence it, and the gate would accept that as evidence...
    const ev = await fence.confirmFenced('remote1', { failedAt: (await store.getNotification(s.uuid))!.generatedTime });
    assert.equal(ev.fenced, true, ev.fenced ? '' : ev.reason);
    // ...but node3 failed minutes ago too: 2 of the segment's 3 hosts, so nothing is evacuated and the reason says why.
    const n = await notification(s.uuid);
    assert.equal(n.status, 'error');
    assert.match(n.lastError ?? '', /^Evacuation paused: 2 of 3 hosts of segment pcmk failed within 300 s \(node3, remote1\)/);
    assert.equal(cloud.servers.get('vm-r')!.host, 'remote1', 'vm-r was not moved');
    assert.equal((await store.getHost(hostUuid.remote1!))!.onMaintenance, false, 'the paused host is left untouched');
    assert.deepEqual(cloud.violations, []);
  });
});
