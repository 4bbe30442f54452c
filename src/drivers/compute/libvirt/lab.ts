// Lab mode (--role=all with no setup): at first start, register the libvirt hosts in one segment, so monitors'
// notifications are accepted without any API call; at every start, say which domains are protected.

import type { Logger } from '../../../core/log.ts';
import type { Store } from '../../../core/store/types.ts';
import type { LibvirtComputeDriver } from './driver.ts';
import { errorMessage } from '../../../core/errors.ts';

export const LAB_SEGMENT = 'masakari-lab';

/**
 * Creates segment `masakari-lab` with every configured libvirt host when the store has no segment at all (a
 * fresh data directory). An operator's own segments are never touched: with any segment present it does nothing.
 */
export async function bootstrapLabSegment(store: Store, hosts: string[], log: Logger, now = new Date()): Promise<boolean> {
  const existing = await store.listSegments({ filters: {}, sort: [], limit: 1 });
  if (existing.length > 0) return false;
  const seg = await store.createSegment(
    { name: LAB_SEGMENT, description: 'created by masakari --role=all at first start', recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true },
    now,
  );
  for (const name of hosts) {
    if (await store.getHostByName(name)) continue;
    await store.createHost(seg.uuid, { name, type: 'COMPUTE', controlAttributes: 'libvirt', reserved: false, onMaintenance: false }, now);
  }
  log.info({ segment: seg.uuid, name: LAB_SEGMENT, hosts }, 'first start: created the lab segment and its hosts');
  return true;
}

/** One log line per protected domain (HA-enabled by metadata or by the protect-all fallback). */
export async function reportProtected(driver: LibvirtComputeDriver, haKey: string, log: Logger): Promise<string[]> {
  const names: string[] = [];
  for (const host of driver.hostNames) {
    let servers;
    try {
      servers = await driver.listServersOnHost(host);
    } catch (e) {
      log.warn({ host, err: errorMessage(e) }, 'cannot list domains of this host yet');
      continue;
    }
    for (const s of servers) {
      const v = (s.metadata[haKey] ?? '').toLowerCase();
      if (!['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) continue;
      names.push(s.name);
      log.info({ host, domain: s.name, instance_uuid: s.id, vm_state: s.vmState }, `protecting domain ${s.name} on ${host}`);
    }
  }
  if (names.length === 0) {
    log.info(
      { haKey },
      'no domain is HA-enabled yet: mark one with `virsh metadata DOMAIN --uri http://masakari.dev/xmlns/libvirt/1.0 --key masakari --set \'<ha enabled="true"/>\' --live --config` (docs/lab.md)',
    );
  }
  return names;
}
