import v8 from 'node:v8'; import vm from 'node:vm';
import { LibvirtConnection } from '../../../src/drivers/libvirt/index.ts';
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc') as () => void;
const c = LibvirtConnection.open('test:///default');
const made = [];
for (let i = 0; i < 10; i++) made.push(c.defineXML(`<domain type='test'><name>leak${i}</name><memory>65536</memory><os><type>hvm</type></os></domain>`));
const mode = process.argv[2] ?? 'ok';
const rss = () => { gc(); return process.memoryUsage().rss / 2**20; };
const listOnce = () => { for (const d of c.listDomains()) d.free(); };
const t0=Date.now();
for (let i = 0; i < 5000; i++) listOnce();
const a = rss();
for (let i = 0; i < 50000; i++) listOnce();
const b = rss();
console.log('lists', (b - a).toFixed(2), 'MiB', Date.now()-t0, 'ms');
for (let i = 0; i < 200; i++) c.onDomainEvent('lifecycle', () => {}).cancel();
const e = rss();
for (let i = 0; i < 2000; i++) { const subs = ['lifecycle','reboot','watchdog','io-error','io-error-reason','control-error'].map(k => c.onDomainEvent(k as any, () => {})); for (const s of subs) s.cancel(); }
const f = rss();
console.log('subs', (f - e).toFixed(2), 'MiB', Date.now()-t0);
for (let i = 0; i < 200; i++) LibvirtConnection.open('test:///default').close();
const g = rss();
for (let i = 0; i < 1000; i++) LibvirtConnection.open('test:///default').close();
console.log('opens', (rss() - g).toFixed(2), 'MiB', Date.now()-t0);
for (const d of made) { d.undefine(); d.free(); }
c.close();
