import v8 from 'node:v8'; import vm from 'node:vm';
import { LibvirtConnection } from '../../../src/drivers/libvirt/index.ts';
import { libvirtNative } from '../../../src/drivers/libvirt/ffi.ts';
import { allocHandler, freeHandler } from '../../../src/drivers/libvirt/events.ts';
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc') as () => void;
const c = LibvirtConnection.open(process.argv[3] ?? 'test:///default');
const n = libvirtNative(); const p = (c as any).ptr;
const rss = () => { gc(); return process.memoryUsage().rss / 2**20; };
const { cb, slot } = allocHandler(n, 'lifecycle', () => {});
const which = process.argv[2];
const f = which === 'raw' ? () => { const id = n.fn.virConnectDomainEventRegisterAny(p, null, 0, cb, 5n, null); n.fn.virConnectDomainEventDeregisterAny(p, id); }
  : which === 'rawnum' ? () => { const id = n.fn.virConnectDomainEventRegisterAny(p, null, 0, cb, null, null); n.fn.virConnectDomainEventDeregisterAny(p, id); }
  : which === 'js' ? () => { const s = allocHandler(n, 'lifecycle', () => {}); freeHandler(s.slot); }
  : () => c.onDomainEvent('lifecycle', () => {}).cancel();
for (let i = 0; i < 500; i++) f();
for (let r = 0; r < 4; r++) { const a = rss(); for (let i = 0; i < 5000; i++) f(); console.log(which, r, (rss() - a).toFixed(2)); }
c.close();
