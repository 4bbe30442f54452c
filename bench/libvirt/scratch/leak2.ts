import v8 from 'node:v8'; import vm from 'node:vm';
import koffi from 'koffi';
import { LibvirtConnection } from '../../../src/drivers/libvirt/index.ts';
import { libvirtNative } from '../../../src/drivers/libvirt/ffi.ts';
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc') as () => void;
const c = LibvirtConnection.open('test:///default');
for (let i = 0; i < 10; i++) c.defineXML(`<domain type='test'><name>leak${i}</name><memory>65536</memory><os><type>hvm</type></os></domain>`).free();
const n = libvirtNative(); const p = (c as any).ptr;
const rss = () => { gc(); return process.memoryUsage().rss / 2**20; };
const variants: Record<string, () => void> = {
  rawNoDecode: () => { const out=[null]; const k=n.fn.virConnectListAllDomains(p,out,0); for (let i=0;i<k;i++){ const d = koffi.decode(out[0], i*8, 'void *'); n.fn.virDomainFree(d);} n.free(out[0]); },
  rawDecodeVirDomain: () => { const out=[null]; const k=n.fn.virConnectListAllDomains(p,out,0); for (let i=0;i<k;i++){ const d = koffi.decode(out[0], i*8, 'virDomain *'); n.fn.virDomainFree(d);} n.free(out[0]); },
  noKeep: () => { const out=[null]; const k=n.fn.virConnectListAllDomains(p,out,0); (c as any).takeDomainArray(out[0], k, false); },
  keep: () => { for (const d of c.listDomains()) d.free(); },
};
for (const [name, f] of Object.entries(variants)) {
  for (let i = 0; i < 3000; i++) f();
  const a = rss();
  for (let i = 0; i < 30000; i++) f();
  console.log(name, (rss() - a).toFixed(2), 'MiB');
}
