// The ComputeDriver contract suite against the libvirt driver on two real libvirtd + QEMU labs (two "hosts").
// failHost kills the host's QEMU processes and its libvirtd: the driver then sees an unreachable host, as after a
// power-off, and evacuation defines and starts the domain on the other lab.

import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibvirtConnection } from '../../src/drivers/libvirt/index.ts';
import { libvirtLabAvailable, LibvirtLab, LIBVIRT_LAB_COMPONENT } from '../labs/libvirt/lab.ts';
import { tinyDomainXml } from '../labs/libvirt/tiny-domain.ts';
import { requireComponent } from '../support/components.ts';
import { testComputeDriver } from '../drivers/libvirt-compute/fixtures.ts';
import { computeDriverContract } from '../drivers/compute-contract.ts';

if (!libvirtLabAvailable()) {
  test('ComputeDriver contract: libvirt (real libvirtd + QEMU)', (t) => void requireComponent(t, LIBVIRT_LAB_COMPONENT, false));
} else {
  computeDriverContract('libvirt (real libvirtd + QEMU, two labs)', async () => {
    const uuid = 'c0000000-0000-4000-8000-0000000000c1';
    const [a, b] = await Promise.all([LibvirtLab.start(), LibvirtLab.start()]);
    const dir = mkdtempSync(join(tmpdir(), 'masakari-lvc-e2e-'));
    const conn = LibvirtConnection.open(a.uri);
    const dom = conn.defineXML(tinyDomainXml({ name: 'contract-vm', uuid }));
    await dom.start();
    dom.free();
    conn.close();
    const driver = testComputeDriver({ 'lab-a': a.uri, 'lab-b': b.uri }, join(dir, 'state.json'), true);
    await driver.refreshInventory();
    return {
      driver,
      hostA: 'lab-a',
      hostB: 'lab-b',
      serverId: uuid,
      failHost: async (host) => {
        const lab = host === 'lab-a' ? a : b;
        lab.killAllQemu();
        await lab.stopDaemon('SIGKILL');
        driver.reconnect(host);
      },
      aggregates: false,
      settleMs: 30_000,
      cleanup: async () => {
        await driver.close();
        await Promise.all([a.stop(), b.stop()]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
