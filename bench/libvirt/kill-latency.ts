// Kill-to-event latency: SIGKILL of a domain's QEMU process → our lifecycle callback (STOPPED/FAILED) → the
// instance monitor's VM draft reaching the sink. Runs on a private libvirtd + QEMU lab (root needed).
// Usage: node --import tsx bench/libvirt/kill-latency.ts [runs=30]

import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../src/core/log.ts';
import { InstanceMonitor } from '../../src/core/monitors/instance/instance-monitor.ts';
import { LibvirtDomainEventSource } from '../../src/drivers/libvirt/event-source.ts';
import { LibvirtConnection, LifecycleEvent, StoppedDetail } from '../../src/drivers/libvirt/index.ts';
import { LibvirtLab } from '../../test/labs/libvirt/lab.ts';
import { tinyDomainXml } from '../../test/labs/libvirt/tiny-domain.ts';

const runs = Number(process.argv[2] ?? 30);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function until<T>(get: () => T | undefined | null, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== null) return v;
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const lab = await LibvirtLab.start();
const callbackMs: number[] = [];
const draftMs: number[] = [];
let killedAt = 0n;
let callbackAt: bigint | null = null;
let draftAt: bigint | null = null;
const uuid = randomUUID();
const name = `bench-${uuid.slice(0, 8)}`;

const source = new LibvirtDomainEventSource({ uri: lab.uri, reconnectDelayMs: 200, log: silentLogger });
const monitor = new InstanceMonitor({
  source,
  sink: {
    submit: async (d) => void (d.payload.instance_uuid === uuid && d.payload.vir_domain_event === 'STOPPED_FAILED' && (draftAt = process.hrtime.bigint())),
  },
  log: silentLogger,
});
try {
  await monitor.start();
  const conn = await LibvirtConnection.openAsync(lab.uri);
  conn.onDomainEvent('lifecycle', (ev) => {
    if (ev.domain.uuid === uuid && ev.event === LifecycleEvent.STOPPED && ev.detail === StoppedDetail.FAILED) callbackAt = process.hrtime.bigint();
  });
  const dom = conn.defineXML(tinyDomainXml({ name, uuid }));
  for (let i = 0; i < runs; i++) {
    await dom.start();
    const pid = await until(() => lab.qemuPid(name));
    callbackAt = null;
    draftAt = null;
    killedAt = process.hrtime.bigint();
    process.kill(pid, 'SIGKILL');
    await until(() => (callbackAt !== null && draftAt !== null ? true : undefined));
    callbackMs.push(Number(callbackAt! - killedAt) / 1e6);
    draftMs.push(Number(draftAt! - killedAt) / 1e6);
  }
  dom.undefine();
  dom.free();
  conn.close();
} finally {
  await monitor.stop();
  await lab.stop();
}

for (const [label, xs] of [
  ['kill → lifecycle callback', callbackMs],
  ['kill → VM draft at the sink', draftMs],
] as const) {
  const s = [...xs].sort((a, b) => a - b);
  console.log(
    `${label}: n=${s.length} median=${pct(s, 50).toFixed(1)} ms p99=${pct(s, 99).toFixed(1)} ms min=${s[0]!.toFixed(1)} ms max=${s[s.length - 1]!.toFixed(1)} ms`,
  );
}
