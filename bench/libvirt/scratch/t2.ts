import { LibvirtConnection, LifecycleEvent, eventLoopState } from '../../../src/drivers/libvirt/index.ts';
const c = LibvirtConnection.open('test:///default');
console.log(c.listDomainSummaries(), c.resolvedUri(), c.hostname(), c.libVersion());
const d = c.lookupByName('test')!;
console.log(d.state(), d.info(), d.id());
const sub = c.onDomainEvent('lifecycle', (ev) => console.log('event', ev));
console.log('close cb?', eventLoopState());
await d.destroy();
await d.start();
try { await d.start(); } catch (e) { console.log('expected', e); }
try { c.lookupByName('zz'); console.log('null ok'); } catch (e) { console.log(e); }
d.setMetadata('https://masakari.dev/xmlns/ha/1', 'masakari', '<ha enabled="true"/>');
console.log('meta', d.getMetadata('https://masakari.dev/xmlns/ha/1'), d.getMetadata('https://x/none'));
try { await d.agentCommand('{"execute":"guest-ping"}', 1); } catch (e) { console.log('agent', e); }
await new Promise((r) => setTimeout(r, 50));
sub.cancel(); d.free();
c.close();
console.log('closed', eventLoopState());
