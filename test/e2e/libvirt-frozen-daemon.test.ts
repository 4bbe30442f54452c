// A frozen libvirtd (SIGSTOP: the socket stays open, nothing answers) on one host must not stall the controller:
// the libvirt compute driver's calls to it wait on worker threads, so Node's event loop (the API, the engine, the
// other hosts) keeps running. When the daemon wakes up (SIGCONT) the pending call completes; if it stays frozen,
// libvirt's keepalive (5 s x 3) ends the connection and the host counts as unreachable instead of the call hanging.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LibvirtComputeDriver } from '../../src/drivers/compute/libvirt/index.ts';
import { LibvirtConnection } from '../../src/drivers/libvirt/index.ts';
import { libvirtLabAvailable, LibvirtLab, LIBVIRT_LAB_COMPONENT } from '../labs/libvirt/lab.ts';
import { tinyDomainXml } from '../labs/libvirt/tiny-domain.ts';
import { requireComponent } from '../support/components.ts';
import { testComputeDriver } from '../drivers/libvirt-compute/fixtures.ts';

const UUID = 'f0000000-0000-4000-8000-0000000000f1';

/** How late a 100 ms timer fires while `busy` is pending: the event loop's stall. */
async function timerLateness(): Promise<number> {
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 100));
  return performance.now() - t0 - 100;
}

test(
  'a frozen libvirtd does not stall the event loop; calls complete when it wakes, or its host is unreachable once keepalive gives up',
  { timeout: 180_000 },
  async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, libvirtLabAvailable())) return;
    const lab = await LibvirtLab.start();
    const dir = mkdtempSync(join(tmpdir(), 'masakari-frozen-'));
    let driver: LibvirtComputeDriver | undefined;
    const pid = () => {
      const p = lab.libvirtdPid();
      assert.ok(p, 'the lab libvirtd runs');
      return p;
    };
    t.after(async () => {
      const p = lab.libvirtdPid();
      if (p) process.kill(p, 'SIGCONT');
      await driver?.close();
      await lab.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const conn = LibvirtConnection.open(lab.uri);
    const dom = conn.defineXML(tinyDomainXml({ name: 'frozen-vm', uuid: UUID }));
    await dom.start();
    dom.free();
    conn.close();
    driver = testComputeDriver({ 'lab-a': lab.uri }, join(dir, 'state.json'), true);
    assert.equal((await driver.getServer(UUID)).vmState, 'active');

    // 1. Frozen, then woken: the call waits without blocking Node, and completes.
    process.kill(pid(), 'SIGSTOP');
    let settled = false;
    const pending = driver.getServer(UUID).finally(() => (settled = true));
    const lateness: number[] = [];
    for (let i = 0; i < 5; i++) lateness.push(await timerLateness());
    assert.equal(settled, false, 'the call waits for the frozen daemon');
    assert.ok(Math.max(...lateness) < 80, `the event loop kept running (timer lateness ${lateness.map((l) => l.toFixed(0)).join(', ')} ms)`);
    process.kill(pid(), 'SIGCONT');
    assert.equal((await pending).vmState, 'active', 'answered once the daemon runs again');

    // 2. Frozen for good: keepalive (5 s x 3) ends the connection; acting on the VM fails as "unavailable" (its host
    // is unreachable), reading it gives what was last seen there (as for a dead host), and nothing hung meanwhile.
    process.kill(pid(), 'SIGSTOP');
    const started = Date.now();
    const stuck = driver.stopServer(UUID).then(
      () => 'stopped',
      (e: unknown) => (e as { code?: string }).code ?? String(e),
    );
    const during: number[] = [];
    while (Date.now() - started < 3000) during.push(await timerLateness());
    assert.ok(Math.max(...during) < 80, `the event loop kept running (worst timer lateness ${Math.max(...during).toFixed(0)} ms)`);
    const outcome = await stuck;
    const waited = Date.now() - started;
    assert.equal(outcome, 'unavailable', `acting on a VM of a frozen host fails as unavailable (got ${outcome} after ${waited} ms)`);
    assert.ok(waited < 60_000, `keepalive bounded the wait (${waited} ms)`);
    const remembered = await driver.getServer(UUID);
    assert.equal(remembered.host, 'lab-a', 'read from what was last seen, not "not found"');
    process.kill(pid(), 'SIGCONT');
  },
);
