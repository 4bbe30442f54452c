import { LibvirtConnection } from '../../../src/drivers/libvirt/index.ts';
const c = LibvirtConnection.open('test:///default');
try { c.defineXML('<domain>'); } catch (e) { console.log((e as any).code, (e as any).domain); }
c.close();
