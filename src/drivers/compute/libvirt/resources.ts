// What a domain takes on a host and what a host offers, for ComputeDriver.hostCapacity and the driver's scheduler.
// A domain's size is read from its definition XML (so a dead host's remembered domains have one too): <vcpu> and
// <memory> (the guest's maximum, what Nova's flavor RAM is). Disk is not counted: an evacuated domain keeps its
// disks on the shared storage it was defined with.

import type { Resources } from '../../../core/ports/compute.ts';
import type { NodeInfo } from '../../libvirt/index.ts';

/** Bytes per unit of libvirt's scaled integers (domain XML "unit" attribute; KiB when absent). */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1000,
  k: 1024,
  kib: 1024,
  mb: 1e6,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1e9,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1e12,
  t: 1024 ** 4,
  tib: 1024 ** 4,
};

/** The domain's vCPUs and memory (MiB) from its XML; undefined when the XML has no <memory>. */
export function domainResources(xml: string): Resources | undefined {
  const mem = /<memory(?:\s+unit=['"]([A-Za-z]+)['"])?\s*>\s*(\d+)\s*<\/memory>/.exec(xml);
  if (!mem) return undefined;
  const bytes = Number(mem[2]) * (UNIT_BYTES[(mem[1] ?? 'KiB').toLowerCase()] ?? 1024);
  const vcpu = /<vcpu\b[^>]*>\s*(\d+)\s*<\/vcpu>/.exec(xml);
  return { vcpus: vcpu ? Number(vcpu[1]) : 1, ramMb: Math.round(bytes / 1024 ** 2), diskGb: null };
}

export interface AllocationPolicy {
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  reservedHostMemoryMb: number;
}

/** What may be allocated on a host: its CPUs and memory (less the reserve) times the ratios, as Nova computes it. */
export function nodeCapacity(node: NodeInfo, p: AllocationPolicy): Resources {
  return {
    vcpus: Math.floor(node.cpus * p.cpuAllocationRatio),
    ramMb: Math.floor(Math.max(0, node.memoryKiB / 1024 - p.reservedHostMemoryMb) * p.ramAllocationRatio),
    diskGb: null,
  };
}

export function sumResources(list: (Resources | undefined)[]): Resources {
  const out: Resources = { vcpus: 0, ramMb: 0, diskGb: null };
  for (const r of list) {
    if (!r) continue;
    out.vcpus += r.vcpus;
    out.ramMb += r.ramMb;
  }
  return out;
}
