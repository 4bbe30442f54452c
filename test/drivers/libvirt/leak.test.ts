// Leak check (not a timing test): listing domains and subscribing/unsubscribing many times must not grow memory.
// Bounds were measured on this machine kind (Node 20, libvirt 9.0, koffi 3.3.4), see the numbers beside them.

import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { randomUUID } from 'node:crypto';
import koffi from 'koffi';
import { test } from 'node:test';
import { requireComponent } from '../../support/components.ts';
import { ALL_EVENT_KINDS, LibvirtConnection, libvirtAvailable } from '../../../src/drivers/libvirt/index.ts';
import { liveHandlerCount } from '../../../src/drivers/libvirt/events.ts';

const COMPONENT = 'libvirt client library (Debian libvirt0)';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function rssMiB(): number {
  gc();
  gc();
  return process.memoryUsage().rss / 2 ** 20;
}

test('50k domain lists do not leak domain handles or arrays', { timeout: 120_000 }, (t) => {
  if (!requireComponent(t, COMPONENT, libvirtAvailable())) return;
  const c = LibvirtConnection.open('test:///default');
  const extra = Array.from({ length: 10 }, (_, i) =>
    c.defineXML(`<domain type='test'><name>leak-${i}-${randomUUID().slice(0, 8)}</name><memory>65536</memory><os><type>hvm</type></os></domain>`),
  );
  try {
    const perList = c.listDomains().map((d) => (d.free(), 1)).length;
    assert.ok(perList >= 11, 'eleven or more domains per list, so a per-handle leak shows');
    const listOnce = () => {
      for (const d of c.listDomains()) d.free();
    };
    // Warm-up: heap, koffi's call buffers and malloc arenas reach their working size first (~4 MiB here).
    for (let i = 0; i < 10_000; i++) listOnce();
    const before = rssMiB();
    for (let i = 0; i < 50_000; i++) listOnce();
    const grown = rssMiB() - before;
    // Measured: 0.1-0.4 MiB. Forgetting virDomainFree leaks ~130 B per handle (~70 MiB here); a FinalizationRegistry
    // entry per handle grew ~1.6 KiB per handle. Forgetting to free the array (~50 B per list, ~2.4 MiB) is below
    // what RSS can show reliably and is not what this bound catches.
    // The bound leaves room for allocator noise (one full-suite run saw 4.5 MiB) while staying far below the
    // ~70 MiB that a missing virDomainFree costs.
    assert.ok(grown < 16, `RSS grew ${grown.toFixed(2)} MiB over 50k lists of ${perList} domains`);
  } finally {
    for (const d of extra) {
      d.undefine();
      d.free();
    }
    c.close();
  }
});

test('2k subscribe/unsubscribe cycles of all six event kinds leave nothing registered', { timeout: 120_000 }, (t) => {
  if (!requireComponent(t, COMPONENT, libvirtAvailable())) return;
  const c = LibvirtConnection.open('test:///default');
  try {
    const cycle = () => {
      const subs = ALL_EVENT_KINDS.map((k) => c.onDomainEvent(k, () => {}));
      for (const s of subs) s.cancel();
    };
    for (let i = 0; i < 200; i++) cycle();
    const handlers = liveHandlerCount();
    const trampolines = koffi.stats().callbacks;
    const before = rssMiB();
    for (let i = 0; i < 2000; i++) cycle();
    const grown = rssMiB() - before;
    assert.equal(c.subscriptionCount, 0);
    assert.equal(liveHandlerCount(), handlers, 'JS handler slots are released');
    assert.equal(koffi.stats().callbacks, trampolines, 'no koffi trampoline is registered per subscription');
    // Measured: ~3 MiB for these 12k register/deregister pairs, nearly all inside libvirt itself: raw
    // virConnectDomainEventRegisterAny + DeregisterAny on test:///default, without our code, keep ~280 B per pair.
    assert.ok(grown < 8, `RSS grew ${grown.toFixed(2)} MiB over 12k subscribe/unsubscribe pairs`);
  } finally {
    c.close();
  }
});
