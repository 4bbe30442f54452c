import v8 from 'node:v8'; import vm from 'node:vm';
import { LibvirtConnection } from '../../../src/drivers/libvirt/index.ts';
import { libvirtNative } from '../../../src/drivers/libvirt/ffi.ts';
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc') as () => void;
const c = LibvirtConnection.open('test:///default');
const n = libvirtNative(); const p = (c as any).ptr;
const rss = () => { gc(); return process.memoryUsage().rss / 2**20; };
const f = () => { n.fn.virConnectIsAlive(p); n.fn.virConnectIsAlive(p); };
for (let i = 0; i < 500; i++) f();
for (let r = 0; r < 3; r++) { const a = rss(); for (let i = 0; i < 5000; i++) f(); console.log('isalive', r, (rss() - a).toFixed(2)); }
c.close();
