// The introspective monitor against a real libvirtd + QEMU. The tiny domains never boot an OS, so their guest agent
// never answers: this checks the real error path (libvirt's "guest agent is not connected"), that only domains
// with an agent channel are probed, and that a domain whose agent never answered is not reported.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { NotificationDraft } from '../../src/core/ports/notify.ts';
import { IntrospectiveMonitor } from '../../src/core/monitors/introspective/introspective-monitor.ts';
import { LibvirtGuestAgentSource } from '../../src/drivers/libvirt/guest-agent-source.ts';
import { ErrorCode, LibvirtConnection, LibvirtError, libvirtAvailable, type Domain } from '../../src/drivers/libvirt/index.ts';
import { LIBVIRT_LAB_COMPONENT, LibvirtLab, libvirtLabAvailable } from '../labs/libvirt/lab.ts';
import { tinyDomainXml } from '../labs/libvirt/tiny-domain.ts';

const AVAILABLE = libvirtAvailable() && libvirtLabAvailable();

describe('introspective monitor against a real libvirtd + QEMU', { timeout: 120_000 }, () => {
  let lab: LibvirtLab | null = null;
  let admin: LibvirtConnection | null = null;
  const domains: Domain[] = [];
  const withAgent = { uuid: randomUUID(), name: `ga-${randomUUID().slice(0, 8)}` };
  const withoutAgent = { uuid: randomUUID(), name: `noga-${randomUUID().slice(0, 8)}` };

  before(async () => {
    if (!AVAILABLE) return;
    lab = await LibvirtLab.start();
    admin = await LibvirtConnection.openAsync(lab.uri);
    for (const [d, agent] of [
      [withAgent, true],
      [withoutAgent, false],
    ] as const) {
      const dom = admin.defineXML(tinyDomainXml({ ...d, guestAgentChannel: agent }));
      await dom.start();
      domains.push(dom);
    }
  });

  after(async () => {
    for (const d of domains) d.free();
    admin?.close();
    await lab?.stop();
  });

  test('the real agent error is typed: AGENT_UNRESPONSIVE, "not connected"', async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, AVAILABLE)) return;
    await assert.rejects(
      domains[0]!.agentCommand('{"execute":"guest-ping"}', 1),
      (e: unknown) => e instanceof LibvirtError && e.libvirtCode === ErrorCode.AGENT_UNRESPONSIVE && /not connected/.test(e.message),
    );
  });

  test('only the domain with an agent channel is probed; its silent agent is counted but never reported', async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, AVAILABLE)) return;
    const source = new LibvirtGuestAgentSource({ uri: lab!.uri, reconnectDelayMs: 200, log: silentLogger });
    await source.start();
    try {
      const listed = await source.listAgentDomains();
      assert.deepEqual(
        listed.map((d) => d.uuid),
        [withAgent.uuid],
      );
      const ping = await source.ping(withAgent.uuid, 1);
      assert.equal(ping.outcome, 'failed');

      const drafts: NotificationDraft[] = [];
      const m = new IntrospectiveMonitor({
        source,
        sink: { submit: async (d) => void drafts.push(d) },
        log: silentLogger,
        intervalSec: 0.05,
        timeoutSec: 1,
        failureThreshold: 2,
      });
      await m.start();
      const end = Date.now() + 20_000;
      while (m.rounds < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      await m.stop();
      assert.ok(m.rounds >= 5, `rounds run: ${m.rounds}`);
      const j = m.journal(withAgent.uuid);
      assert.ok(j, 'the agent domain has a journal');
      assert.equal(j.phase, 'discovery');
      assert.ok(j.failures >= 5, `failures counted: ${j.failures}`);
      assert.equal(m.journal(withoutAgent.uuid), undefined);
      assert.deepEqual(drafts, [], 'an agent that never answered since the domain started is not reported');
    } finally {
      await source.stop();
    }
  });
});
