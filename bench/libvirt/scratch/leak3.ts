import v8 from 'node:v8'; import vm from 'node:vm';
import { LibvirtConnection } from '../../../src/drivers/libvirt/index.ts';
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc') as () => void;
const c = LibvirtConnection.open('test:///default');
for (let i = 0; i < 10; i++) c.defineXML(`<domain type='test'><name>leak${i}</name><memory>65536</memory><os><type>hvm</type></os></domain>`).free();
const rss = () => { gc(); return process.memoryUsage().rss / 2**20; };
const listOnce = () => { for (const d of c.listDomains()) d.free(); };
const which = process.argv[2];
if (which === 'list') {
  for (let i = 0; i < 5000; i++) listOnce();
  for (let r = 0; r < 5; r++) { const a = rss(); for (let i = 0; i < 20000; i++) listOnce(); console.log('list round', r, (rss() - a).toFixed(2)); }
} else {
  for (let i = 0; i < 500; i++) c.onDomainEvent('lifecycle', () => {}).cancel();
  for (let r = 0; r < 5; r++) { const a = rss(); for (let i = 0; i < 5000; i++) c.onDomainEvent('lifecycle', () => {}).cancel(); console.log('sub round', r, (rss() - a).toFixed(2)); }
}
c.close();
