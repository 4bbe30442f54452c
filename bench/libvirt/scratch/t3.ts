import { LibvirtLab } from '../../../test/labs/libvirt/lab.ts';
import { tinyDomainXml } from '../../../test/labs/libvirt/tiny-domain.ts';
import { LibvirtConnection } from '../../../src/drivers/libvirt/index.ts';
const t0 = Date.now();
const lab = await LibvirtLab.start();
console.log('ready', Date.now() - t0, lab.uri, lab.libvirtdPid());
try {
  const c = await LibvirtConnection.openAsync(lab.uri);
  const got: unknown[] = [];
  c.onDomainEvent('lifecycle', (e) => { got.push(e); console.log('ev', Date.now() - t0, e.event, e.detail); });
  c.onClose((r) => console.log('closed', r));
  c.setKeepAlive(1, 2);
  const d = c.defineXML(tinyDomainXml({ name: 'tiny', uuid: '11111111-2222-3333-4444-555555555555', guestAgentChannel: true }));
  await d.start();
  console.log('started', Date.now() - t0, lab.qemuPid('tiny'), d.state());
  console.log(d.xml().match(/<channel[\s\S]*?<\/channel>/)?.[0]);
  try { await d.agentCommand('{"execute":"guest-ping"}', 1); } catch (e) { console.log('agent', e); }
  process.kill(lab.qemuPid('tiny')!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  console.log(d.state());
  await lab.restartDaemon();
  console.log('restarted', Date.now() - t0, c.lost);
  d.free(); c.close();
} finally { await lab.stop(); }
