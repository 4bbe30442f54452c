// The whole cloud on one machine (issue 15, test/labs/cloud): Pacemaker nodes that are Nova compute hosts, each with
// nova-compute and `masakari --role=compute`; two `masakari --role=controller` on one MariaDB; Keystone everywhere.
// The first test only starts the lab (so a failure says which part broke); the scenarios then run on it in order.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requireComponent } from '../support/components.ts';
import { CLOUD_LAB_COMPONENT, CloudLab, cloudLabMissing, NODES, waitUntil, type ApiNotification, type NodeN } from '../labs/cloud/lab.ts';

const missing = cloudLabMissing();
const TOKEN_LIFETIME_S = 150;

type Notification = ApiNotification;

describe('the whole cloud on one machine', { timeout: 900_000 }, () => {
  let lab: CloudLab | null = null;
  let startError: Error | null = null;

  before(async () => {
    if (missing) return;
    // Tokens live 150 s: every agent's first token expires during the scenarios (scenario 4).
    lab = new CloudLab({ leaseSeconds: 10, tokenExpirationS: TOKEN_LIFETIME_S });
    try {
      await lab.start();
    } catch (e) {
      startError = e as Error;
    }
  });

  after(async () => {
    await lab?.stop();
  });

  function up(t: Parameters<typeof requireComponent>[0]): CloudLab | null {
    if (!requireComponent(t, CLOUD_LAB_COMPONENT, missing === null)) return null;
    if (startError) throw new Error(`the cloud lab did not start: ${startError.message}`);
    return lab;
  }

  const notifications = async (l: CloudLab) =>
    (await l.api<{ notifications: Notification[] }>('GET', '/notifications?sort_key=created_at&sort_dir=asc')).notifications;

  it('starts: cluster quorate, nova-compute up on node1..3, agents and two controllers running', async (t) => {
    const l = up(t);
    if (!l) return;
    const s = await l.pcmk.snapshot(1);
    assert.ok(s.quorate);
    assert.deepEqual(
      s.nodes
        .filter((x) => x.online)
        .map((x) => x.name)
        .sort(),
      ['node1', 'node2', 'node3'],
    );
    const svcs = await l.computeServices();
    for (const n of NODES)
      assert.ok(
        svcs.some((x) => x.host === `node${n}` && x.state === 'up' && x.status === 'enabled'),
        JSON.stringify(svcs),
      );
    for (const n of NODES) assert.ok(l.agentRunning(n), `agent of node${n}:\n${l.agentOutput(n).slice(-2000)}`);
    // Each nova-compute runs inside its node: the node's PID namespace, not this one's.
    for (const n of NODES) assert.equal(l.novaComputePids(n).length, 1, `one nova-compute of node${n}`);
  });

  it('scenario 1: a node killed hard is fenced by Pacemaker, reported by a peer, and its servers evacuated once each', async (t) => {
    const l = up(t);
    if (!l) return;
    const victim: NodeN = 3;
    const ids = await l.bootServers(victim, 4, 's1');
    const run = await l.hostFailure(victim, ids);
    t.diagnostic(
      `killed → fenced ${run.fencedAt ? run.fencedAt - run.killedAt : '?'} ms → reported ${run.reportedAt - run.killedAt} ms → ` +
        `evacuations started ${run.evacuationsStartedAt ? run.evacuationsStartedAt - run.killedAt : '?'} ms → all ACTIVE ${run.allActiveAt - run.killedAt} ms`,
    );
    // The chain in order (whole seconds: crm_mon and Nova print seconds).
    assert.ok(run.fencedAt !== null && run.evacuationsStartedAt !== null, JSON.stringify(run));
    assert.ok(run.fencedAt >= run.killedAt - 1000 && run.reportedAt >= run.killedAt - 1000, JSON.stringify(run));
    assert.ok(run.evacuationsStartedAt >= run.fencedAt - 1000 && run.evacuationsStartedAt >= run.reportedAt - 1000, JSON.stringify(run));
    assert.ok(run.allActiveAt >= run.evacuationsStartedAt, JSON.stringify(run));

    // Pacemaker fenced it through its BMC.
    const s = await l.pcmk.snapshot(1);
    assert.ok(
      (s.fenceHistory ?? []).some((f) => f.target === 'node3' && f.status === 'success'),
      `a successful fencing of node3 in crm_mon's history: ${JSON.stringify(s.fenceHistory)}`,
    );
    assert.equal(l.pcmk.nodeIsOn(victim), false, 'node3 is powered off');
    // The controller that ran the recovery had the evidence before evacuating: Pacemaker's record of that fencing.
    type Details = { notification: { recovery_workflow_details: { name: string; progress_details: { message: string }[] }[] } };
    const details = (await l.api<Details>('GET', `/notifications/${run.notification.notification_uuid}`)).notification.recovery_workflow_details;
    const fenceTask = details.find((d) => d.name === 'FenceHostTask');
    assert.match(
      fenceTask?.progress_details.map((p) => p.message).join('\n') ?? '',
      /Host 'node3' is fenced: Pacemaker fenced 'node3'/,
      JSON.stringify(details),
    );

    for (const id of ids) {
      const srv = await l.server(id);
      assert.equal(srv.status, 'ACTIVE', JSON.stringify(srv));
      assert.ok(srv.host === 'node1' || srv.host === 'node2', `server ${id} on a surviving node: ${srv.host}`);
      assert.equal((await l.evacuateActions(id)).length, 1, `server ${id} evacuated exactly once`);
    }
    const svc = (await l.computeServices()).find((x) => x.host === 'node3')!;
    assert.equal(svc.status, 'disabled');
    const host = await l.api<{ host: { on_maintenance: boolean } }>('GET', `/segments/${l.segmentUuid}/hosts/${l.hostUuids.get(victim)}`);
    assert.equal(host.host.on_maintenance, true);
    // Reported by an agent on a surviving node (its outbox holds the delivered draft).
    const reporters = ([1, 2] as NodeN[]).filter((n) => l.outboxRows(n, 'sent').some((r) => r.draft.type === 'COMPUTE_HOST' && r.draft.hostname === 'node3'));
    assert.ok(reporters.length >= 1, 'an agent of node1 or node2 delivered the host failure');
  });

  /** Servers per host and their evacuate actions, to show that nothing moved. */
  async function placement(l: CloudLab, ids: string[]): Promise<string> {
    const out = await Promise.all(ids.map(async (id) => `${id}@${(await l.server(id)).host}x${(await l.evacuateActions(id)).length}`));
    return out.sort().join(' ');
  }

  let s1Servers: string[] = [];

  it('repair: node3 powered on through its BMC rejoins, its nova-compute and agent run, service enabled, maintenance off', async (t) => {
    const l = up(t);
    if (!l) return;
    await l.repairNode(3);
    const svc = (await l.computeServices()).find((x) => x.host === 'node3')!;
    assert.equal(svc.status, 'enabled');
    assert.equal(svc.state, 'up');
    assert.ok(l.agentRunning(3));
    const servers = await l.nova<{ servers: { id: string }[] }>('GET', '/servers?all_tenants=1');
    s1Servers = servers.servers.map((x) => x.id);
  });

  it('scenario 2: nova-compute killed on a node whose agent lives: reported, service disabled, nothing evacuated', async (t) => {
    const l = up(t);
    if (!l) return;
    const before = await placement(l, s1Servers);
    l.killNovaCompute(2);
    const n = await waitUntil(
      'a finished PROCESS notification of node2',
      async () => {
        const all = (await notifications(l)).filter((x) => x.type === 'PROCESS' && x.source_host_uuid === l.hostUuids.get(2));
        if (all.some((x) => x.status === 'error' || x.status === 'failed')) throw new Error(JSON.stringify(all));
        return all.find((x) => x.status === 'finished');
      },
      90_000,
      1000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- agent node2:\n${l.agentOutput(2).slice(-3000)}\n--- controller a:\n${l.controllerOutput(0).slice(-3000)}`);
    });
    assert.equal(n.payload.event, 'STOPPED');
    assert.equal(n.payload.process_name, 'nova-compute');
    assert.equal((await l.computeServices()).find((x) => x.host === 'node2')!.status, 'disabled');
    assert.equal(await placement(l, s1Servers), before, 'no server moved, no evacuation');
    assert.equal((await notifications(l)).filter((x) => x.type === 'COMPUTE_HOST' && x.source_host_uuid === l.hostUuids.get(2)).length, 0);
    const host = await l.api<{ host: { on_maintenance: boolean } }>('GET', `/segments/${l.segmentUuid}/hosts/${l.hostUuids.get(2)}`);
    assert.equal(host.host.on_maintenance, true, 'the host is on maintenance (as Masakari does for a process failure)');
    await l.repairNovaCompute(2);
  });

  it('scenario 3: controllers unreachable from node1: the notification waits in its outbox, then is delivered and processed', async (t) => {
    const l = up(t);
    if (!l) return;
    l.cutControllers(1, true);
    let restored = false;
    try {
      l.killNovaCompute(1);
      const pending = await waitUntil(
        "a pending PROCESS row with failed attempts in node1's outbox",
        async () => l.outboxRows(1, 'pending').find((r) => r.draft.type === 'PROCESS' && r.attempts >= 2),
        60_000,
      );
      assert.ok(pending.lastError, 'the failed attempts say why');
      assert.equal((await notifications(l)).filter((x) => x.type === 'PROCESS' && x.source_host_uuid === l.hostUuids.get(1)).length, 0, 'nothing arrived');
      l.cutControllers(1, false);
      restored = true;
      const restoredAt = Date.now();
      const n = await waitUntil(
        'the PROCESS notification of node1 finished after the link returned',
        async () => (await notifications(l)).find((x) => x.type === 'PROCESS' && x.source_host_uuid === l.hostUuids.get(1) && x.status === 'finished'),
        90_000,
        1000,
      );
      assert.ok(Date.parse(n.created_at) >= restoredAt - 2000, `stored after the link returned (${n.created_at})`);
      await waitUntil("node1's outbox empty", async () => l.outboxRows(1, 'pending').length === 0, 30_000);
      assert.equal((await l.computeServices()).find((x) => x.host === 'node1')!.status, 'disabled');
    } finally {
      if (!restored) l.cutControllers(1, false);
    }
    await l.repairNovaCompute(1);
  });

  it('scenario 5: the controller evacuating is killed mid-way; the other takes the lease over and finishes, nothing twice', async (t) => {
    const l = up(t);
    if (!l) return;
    const victim: NodeN = 2;
    const ids = await l.bootServers(victim, 8, 's5');
    l.pcmk.killNode(victim);
    // Controller A (the catalog's endpoint) takes the notification; kill it once the first evacuation was asked.
    await waitUntil(
      'a first evacuation of a node2 server',
      async () => {
        for (const id of ids) if ((await l.evacuateActions(id)).length > 0) return true;
        return false;
      },
      180_000,
      300,
    );
    const states = await Promise.all(ids.map((id) => l.server(id)));
    await l.stopController(0, 'SIGKILL');
    const unfinished = states.filter((s) => s.status !== 'ACTIVE' || s.host === 'node2').length;
    const done = await waitUntil(
      'the host failure of node2 finished by controller b',
      async () => {
        const all = (
          await l.api<{ notifications: Notification[] }>('GET', '/notifications?sort_key=created_at&sort_dir=asc', undefined, 1)
        ).notifications.filter((n) => n.type === 'COMPUTE_HOST' && n.source_host_uuid === l.hostUuids.get(victim));
        return all.find((n) => n.status === 'finished');
      },
      240_000,
      1000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- controller b:\n${l.controllerOutput(1).slice(-5000)}`);
    });
    const resumed = l
      .controllerOutput(1)
      .split('\n')
      .find((line) => line.includes('resuming a notification whose controller stopped working on it') && line.includes(done.notification_uuid));
    assert.ok(resumed, 'controller b resumed the notification controller a held');
    assert.match(resumed, /"previousOwner":"controller-a"/);
    assert.ok(unfinished > 0, `controller a was killed with evacuations in flight (${JSON.stringify(states)})`);
    for (const id of ids) {
      const srv = await l.server(id);
      assert.equal(srv.status, 'ACTIVE', JSON.stringify(srv));
      assert.notEqual(srv.host, 'node2');
      assert.equal((await l.evacuateActions(id)).length, 1, `server ${id} evacuated exactly once`);
    }
    await l.startController(0);
  });

  it("scenario 4: the agents' Keystone tokens expire during the run: renewed, heartbeats and a notification delivered", async (t) => {
    const l = up(t);
    if (!l) return;
    const n: NodeN = 3; // its agent started at the repair; node1's and node2's have renewed for longer
    const first = await waitUntil("node3's agent holding a Keystone token", async () => l.agentTokens(n)[0], 30_000);
    // Past the first token's expiry (Keystone refuses it from then on), and a heartbeat accepted since.
    await waitUntil("the first token of node3's agent expired", async () => Date.now() > first + 1000, TOKEN_LIFETIME_S * 1000 + 10_000, 1000);
    const hb = (await l.heartbeatReceivedAt(n))!;
    await waitUntil('a heartbeat of node3 accepted after the expiry', async () => ((await l.heartbeatReceivedAt(n)) ?? 0) > hb, 30_000, 1000);
    const tokens = l.agentTokens(n);
    assert.ok(tokens.length >= 2, `renewed: ${tokens.map((x) => new Date(x).toISOString()).join(', ')}`);
    assert.ok(tokens[tokens.length - 1]! > first + (TOKEN_LIFETIME_S * 1000) / 3, 'a later token');
    assert.ok(
      tokens.length <= 2 + Math.ceil((Date.now() - first + TOKEN_LIFETIME_S * 1000) / ((TOKEN_LIFETIME_S * 1000) / 2)),
      `not one token per request: ${tokens.length}`,
    );
    // A notification after the expiry is delivered with the renewed token and processed.
    l.killNovaCompute(n);
    await waitUntil(
      'a finished PROCESS notification of node3',
      async () => (await notifications(l)).find((x) => x.type === 'PROCESS' && x.source_host_uuid === l.hostUuids.get(n) && x.status === 'finished'),
      90_000,
      1000,
    );
    assert.deepEqual(l.outboxRows(n, 'pending'), []);
    assert.deepEqual(l.outboxRows(n, 'rejected'), []);
  });
});
