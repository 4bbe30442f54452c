import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { LibvirtLab } from '../../test/labs/libvirt/lab.ts';
import { tinyDomainXml } from '../../test/labs/libvirt/tiny-domain.ts';
import { LibvirtConnection } from '../../src/drivers/libvirt/index.ts';
import { LibvirtDomainEventSource } from '../../src/drivers/libvirt/event-source.ts';
const log = pino({ level: "warn" });
const lab = await LibvirtLab.start();
const t0 = Date.now();
try {
  const src = new LibvirtDomainEventSource({ uri: lab.uri, keepalive: { intervalSec: 1, count: 2 }, reconnectDelayMs: 200, log });
  await src.start((ev) => console.log(Date.now() - t0, 'EV', JSON.stringify(ev)));
  let c = await LibvirtConnection.openAsync(lab.uri);
  const uuid = randomUUID();
  const d = c.defineXML(tinyDomainXml({ name: 'x', uuid }));
  for (let i = 0; i < 4; i++) {
    await d.start();
    console.log(Date.now() - t0, 'started');
    // fresh admin since restart kills conn
    const before = src.conn.connects;
    await lab.restartDaemon({ signal: 'SIGTERM' });
    while (!(src.conn.connects > before && src.conn.connection)) await new Promise((r) => setTimeout(r, 20));
    console.log(Date.now() - t0, 'reconnected');
    const pid = lab.qemuPid('x');
    console.log('pid', pid);
    process.kill(pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));
    c = await LibvirtConnection.openAsync(lab.uri);
    const dd = c.lookupByUUID(uuid)!;
    console.log(Date.now() - t0, 'state', dd.state());
    (d as any).owner = c; (d as any).ptr = (dd as any).ptr;
  }
  await src.stop();
} finally { console.log(lab.logTail(30)); await lab.stop(); }
