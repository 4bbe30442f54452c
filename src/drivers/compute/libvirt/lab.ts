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

const HA_TRUE = ['1', 't', 'true', 'on', 'y', 'yes'];

/** How often the lab looks again for domains that became protected (or stopped being): a user marks a VM, then kills it. */
export const PROTECTION_CHECK_MS = 2000;

/** The protected domains of every reachable host (uuid -> what to say about it); null for a host that did not answer. */
async function protectedDomains(
  driver: LibvirtComputeDriver,
  haKey: string,
  log: Logger,
  quiet: boolean,
): Promise<Map<string, { host: string; name: string; vmState: string }> | null> {
  const out = new Map<string, { host: string; name: string; vmState: string }>();
  for (const host of driver.hostNames) {
    let servers;
    try {
      servers = await driver.listServersOnHost(host);
    } catch (e) {
      if (!quiet) log.warn({ host, err: errorMessage(e) }, 'cannot list domains of this host yet');
      return null;
    }
    for (const s of servers) {
      if (HA_TRUE.includes((s.metadata[haKey] ?? '').toLowerCase())) out.set(s.id, { host, name: s.name, vmState: s.vmState });
    }
  }
  return out;
}

export interface ProtectionReporter {
  /** The domains protected at start, by name. */
  readonly initial: string[];
  stop(): Promise<void>;
}

/**
 * One log line per protected domain at start (`protecting domain NAME on HOST`, HA-enabled by metadata or by the
 * protect-all fallback), then the same line whenever a domain becomes protected while the lab runs (marked with
 * `virsh metadata`, or defined already marked), and `no longer protecting ...` when one is unmarked or undefined, so
 * a user can confirm a VM is protected before killing it. Checked every PROTECTION_CHECK_MS (0: only at start).
 */
export async function reportProtected(driver: LibvirtComputeDriver, haKey: string, log: Logger, intervalMs = PROTECTION_CHECK_MS): Promise<ProtectionReporter> {
  let known = (await protectedDomains(driver, haKey, log, false)) ?? new Map<string, { host: string; name: string; vmState: string }>();
  for (const [id, d] of known) log.info({ host: d.host, domain: d.name, instance_uuid: id, vm_state: d.vmState }, `protecting domain ${d.name} on ${d.host}`);
  if (known.size === 0) {
    log.info(
      { haKey },
      'no domain is HA-enabled yet: mark one with `virsh metadata DOMAIN --uri http://masakari.dev/xmlns/libvirt/1.0 --key masakari --set \'<ha enabled="true"/>\' --live --config` (docs/lab.md)',
    );
  }
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const check = async () => {
    // A host that does not answer now says nothing about its domains: keep the last answer.
    const now = await protectedDomains(driver, haKey, log, true);
    if (now === null || stopped) return;
    for (const [id, d] of now) {
      if (!known.has(id)) log.info({ host: d.host, domain: d.name, instance_uuid: id, vm_state: d.vmState }, `protecting domain ${d.name} on ${d.host}`);
    }
    for (const [id, d] of known) {
      if (!now.has(id))
        log.info({ host: d.host, domain: d.name, instance_uuid: id }, `no longer protecting domain ${d.name} on ${d.host} (not HA-enabled, or undefined)`);
    }
    known = now;
  };
  const schedule = () => {
    if (stopped || intervalMs <= 0) return;
    // One check at a time (a slow host must not pile them up); the timer does not keep the process alive.
    timer = setTimeout(() => {
      void check()
        .catch((e: unknown) => log.debug({ err: errorMessage(e) }, 'protection check failed'))
        .finally(schedule);
    }, intervalMs).unref();
  };
  schedule();
  return {
    initial: [...known.values()].map((d) => d.name),
    // Not waiting for a check under way: it only reads, and its answer is dropped (a frozen host must not hold
    // the shutdown here; the driver's close comes later anyway).
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
