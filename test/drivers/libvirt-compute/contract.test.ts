// The ComputeDriver contract suite against the libvirt driver on libvirt's test driver (no daemon needed).

import { libvirtAvailable } from '../../../src/drivers/libvirt/index.ts';
import { requireComponent } from '../../support/components.ts';
import { computeDriverContract } from '../compute-contract.ts';
import { test } from 'node:test';
import { testDomainXml, twoTestHosts } from './fixtures.ts';

const available = libvirtAvailable();
if (!available) {
  test('ComputeDriver contract: libvirt (test driver)', (t) => void requireComponent(t, 'libvirt client library (libvirt0)', false));
} else {
  computeDriverContract('libvirt (test:/// driver)', async () => {
    const uuid = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    const h = twoTestHosts([testDomainXml('vm1', uuid, true)]);
    return {
      driver: h.driver,
      hostA: 'node-a',
      hostB: 'node-b',
      serverId: uuid,
      failHost: async (host) => h.kill(host),
      aggregates: false,
      settleMs: 5000,
      cleanup: async () => h.cleanup(),
    };
  });
}
