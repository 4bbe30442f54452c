// Two "hosts" for the libvirt compute driver on libvirt's test driver: each a test:///PATH connection to its own
// node file, so they have separate domains (test:///default is one shared node per process). A host "dies" when
// its node file is removed and the driver's connection is dropped: reconnecting then fails like a dead peer.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/log.ts';
import { LibvirtComputeDriver, LibvirtStateStore } from '../../../src/drivers/compute/libvirt/index.ts';

export const NS = 'http://masakari.dev/xmlns/libvirt/1.0';

/** The driver as the tests use it: no retry back-off, no background inventory, quiet. */
export function testComputeDriver(hosts: Record<string, string>, statePath: string, haEnabledDefault = false): LibvirtComputeDriver {
  return new LibvirtComputeDriver({
    hosts,
    metadataNamespace: NS,
    haKeys: ['HA_Enabled'],
    haEnabledDefault,
    state: new LibvirtStateStore(statePath),
    connectTimeoutMs: 5000,
    retryUnreachableMs: 0,
    inventoryIntervalMs: 0,
    log: silentLogger,
  });
}

export function testDomainXml(name: string, uuid: string, ha: boolean | null): string {
  const meta = ha === null ? '' : `<metadata><masakari:ha xmlns:masakari='${NS}' enabled='${ha}'/></metadata>`;
  return `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid><memory>65536</memory><os><type>hvm</type></os>${meta}</domain>`;
}

export interface TwoHosts {
  dir: string;
  files: Record<string, string>;
  statePath: string;
  driver: LibvirtComputeDriver;
  newDriver(opts?: { haEnabledDefault?: boolean }): LibvirtComputeDriver;
  kill(host: string): void;
  cleanup(): Promise<void>;
}

/** hostA carries `domains`; hostB starts empty. */
export function twoTestHosts(domains: string[]): TwoHosts {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-lvc-'));
  const files = { 'node-a': join(dir, 'node-a.xml'), 'node-b': join(dir, 'node-b.xml') };
  writeFileSync(files['node-a'], `<node>${domains.join('')}</node>`);
  writeFileSync(files['node-b'], '<node></node>');
  const statePath = join(dir, 'state.json');
  const drivers: LibvirtComputeDriver[] = [];
  const newDriver = (opts: { haEnabledDefault?: boolean } = {}) => {
    const d = testComputeDriver({ 'node-a': `test://${files['node-a']}`, 'node-b': `test://${files['node-b']}` }, statePath, opts.haEnabledDefault);
    drivers.push(d);
    return d;
  };
  return {
    dir,
    files,
    statePath,
    driver: newDriver(),
    newDriver,
    kill(host) {
      rmSync(files[host as keyof typeof files], { force: true });
      for (const d of drivers) d.reconnect(host);
    },
    async cleanup() {
      // Closed before the directory goes: a connection still open could write its state file into it afterwards.
      await Promise.all(drivers.map((d) => d.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
