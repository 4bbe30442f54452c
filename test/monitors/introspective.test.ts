// The introspective (QEMU guest agent) monitor: its per-domain journal, channel detection, and the monitor's
// decisions. The decision test drives the monitor with a scripted agent source because no guest OS (hence no
// guest agent that could answer and then stop) can boot here; the real libvirt paths are in
// introspective-e2e.test.ts (libvirtd + QEMU) and below (test:///default).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { realEnv } from '../../src/core/env.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { NotificationDraft } from '../../src/core/ports/notify.ts';
import { AgentJournal } from '../../src/core/monitors/introspective/journal.ts';
import { IntrospectiveMonitor } from '../../src/core/monitors/introspective/introspective-monitor.ts';
import type { AgentDomain, GuestAgentSource, PingResult } from '../../src/core/monitors/introspective/source.ts';
import { hasGuestAgentChannel, LibvirtGuestAgentSource } from '../../src/drivers/libvirt/guest-agent-source.ts';
import { LibvirtConnection, libvirtAvailable } from '../../src/drivers/libvirt/index.ts';

describe('agent journal', () => {
  test('failures before the first answer do not count (guest booting or no agent installed)', () => {
    const j = new AgentJournal(1);
    for (let i = 0; i < 10; i++) assert.equal(j.record(false, 3), false);
    assert.equal(j.phase, 'discovery');
    assert.equal(j.failures, 10);
  });

  test('threshold consecutive failures after an answer report once; an answer ends the episode', () => {
    const j = new AgentJournal(1);
    assert.equal(j.record(true, 3), false);
    assert.equal(j.record(false, 3), false);
    assert.equal(j.record(false, 3), false);
    assert.equal(j.record(false, 3), true, 'third consecutive failure reports');
    assert.equal(j.phase, 'reported');
    for (let i = 0; i < 5; i++) assert.equal(j.record(false, 3), false, 'only once per episode');
    assert.equal(j.record(true, 3), false);
    assert.equal(j.phase, 'healthy');
    assert.equal(j.record(false, 3), false);
    assert.equal(j.record(false, 3), false);
    assert.equal(j.record(false, 3), true, 'a new episode reports again');
  });

  test('an answer in the middle resets the count', () => {
    const j = new AgentJournal(1);
    j.record(true, 3);
    j.record(false, 3);
    j.record(false, 3);
    j.record(true, 3);
    assert.equal(j.record(false, 3), false);
    assert.equal(j.record(false, 3), false);
    assert.equal(j.failures, 2);
  });
});

describe('guest-agent channel detection', () => {
  test('finds the org.qemu.guest_agent.0 virtio channel, whatever the socket path', () => {
    const nova = `<domain><devices><channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/org.qemu.guest_agent.0.instance-00000004.sock'/><target type='virtio' name='org.qemu.guest_agent.0' state='connected'/></channel></devices></domain>`;
    const ours = `<devices><channel type="unix">\n <source mode="bind"/>\n <target type="virtio" name="org.qemu.guest_agent.0"/>\n</channel></devices>`;
    const spiceOnly = `<devices><channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel></devices>`;
    assert.equal(hasGuestAgentChannel(nova), true);
    assert.equal(hasGuestAgentChannel(ours), true);
    assert.equal(hasGuestAgentChannel(spiceOnly), false);
    assert.equal(hasGuestAgentChannel('<domain><devices/></domain>'), false);
  });
});

/** Scripted agent answers per round; stands in for a guest OS with an agent (none can boot here). */
class ScriptedAgents implements GuestAgentSource {
  round = 0;
  constructor(
    private readonly domains: AgentDomain[],
    private readonly answers: Record<string, Array<PingResult['outcome']>>,
  ) {}
  async start() {}
  async stop() {}
  async listAgentDomains() {
    this.round++;
    return this.domains;
  }
  async ping(uuid: string): Promise<PingResult> {
    const outcome = this.answers[uuid]?.[this.round - 1] ?? 'ok';
    return outcome === 'ok' ? { outcome } : { outcome, reason: 'scripted' };
  }
}

describe('introspective monitor decisions', () => {
  test('one QEMU_GUEST_AGENT_ERROR per episode; unknown results do not count; restarts start over', async () => {
    const A = 'aaaaaaaa-0000-0000-0000-000000000001';
    const B = 'bbbbbbbb-0000-0000-0000-000000000002';
    const source = new ScriptedAgents(
      [
        { uuid: A, name: 'a', runId: 1 },
        { uuid: B, name: 'b', runId: 1 },
      ],
      {
        // A: answers, fails 3 (report), keeps failing, answers, fails 3 again (second report)
        [A]: ['ok', 'failed', 'failed', 'failed', 'failed', 'ok', 'failed', 'failed', 'failed'],
        // B: answers, then the hypervisor cannot be asked (unknown) between failures: never 3 failures in a row
        [B]: ['ok', 'failed', 'unknown', 'failed', 'ok', 'failed', 'unknown', 'unknown', 'ok'],
      },
    );
    const drafts: NotificationDraft[] = [];
    const m = new IntrospectiveMonitor({
      source,
      sink: { submit: async (d) => void drafts.push(d) },
      log: silentLogger,
      intervalSec: 3600,
      timeoutSec: 2,
      failureThreshold: 3,
      hostname: 'hv1',
      // Rounds are driven by hand below: a timer that never fires.
      env: { ...realEnv, setTimer: () => ({ cancel() {} }) },
    });
    await m.start();
    for (let i = 0; i < 9; i++) await m.runRound();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      drafts.map((d) => d.payload),
      [
        { event: 'QEMU_GUEST_AGENT_ERROR', instance_uuid: A, vir_domain_event: 'STOPPED_FAILED' },
        { event: 'QEMU_GUEST_AGENT_ERROR', instance_uuid: A, vir_domain_event: 'STOPPED_FAILED' },
      ],
    );
    assert.equal(drafts[0]!.type, 'VM');
    assert.equal(drafts[0]!.hostname, 'hv1');
    assert.equal(m.journal(B)!.phase, 'healthy');
  });
});

describe('libvirt guest-agent source on test:///default', () => {
  test('domains without an agent channel are not probed; a ping the driver cannot do is "unknown", not a failure', async (t) => {
    if (!requireComponent(t, 'libvirt client library (Debian libvirt0)', libvirtAvailable())) return;
    const src = new LibvirtGuestAgentSource({ uri: 'test:///default', reconnectDelayMs: 100, log: silentLogger });
    await src.start();
    try {
      assert.deepEqual(await src.listAgentDomains(), [], 'the test driver domain has no agent channel');
      const c = LibvirtConnection.open('test:///default');
      const uuid = c.lookupByName('test')!;
      const id = uuid.uuid();
      uuid.free();
      c.close();
      const res = await src.ping(id, 1);
      assert.equal(res.outcome, 'unknown');
      assert.match((res as { reason: string }).reason, /not supported/);
    } finally {
      await src.stop();
    }
  });
});
