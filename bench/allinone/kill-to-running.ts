// Kill-to-running: SIGKILL of an HA-enabled domain's QEMU -> `masakari --role=all` (in this process, real libvirtd +
// QEMU TCG, real SQLite) -> the domain running again. Reports each part, median and p99 over `runs` kills.
// Root needed (private libvirtd lab). Usage: node --import tsx bench/allinone/kill-to-running.ts [runs=20]
//
// Time points, all taken in this process with process.hrtime when the log line is written (pino writes
// synchronously to the stream below) or when the kill is sent:
//   kill      process.kill(qemuPid, 'SIGKILL')
//   event     the instance monitor logs "libvirt event: sending VM notification" (libvirt event delivered)
//   accepted  the outbox logs "notification delivered" (the API stored it: status new, 202)
//   issued    the engine's StartInstanceTask starts (the restart is about to be issued)
//   running   the driver logs "domain started" (virDomainCreate returned: QEMU runs, domain state RUNNING)
//   finished  the notification reaches `finished` (ConfirmInstanceActiveTask saw it active)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/core/config/load.ts';
import * as all from '../../src/roles/all.ts';
import { LibvirtConnection } from '../../src/drivers/libvirt/index.ts';
import { LibvirtLab } from '../../test/labs/libvirt/lab.ts';
import { tinyDomainXml } from '../../test/labs/libvirt/tiny-domain.ts';

const runs = Number(process.argv[2] ?? 20);
const NS = 'http://masakari.dev/xmlns/libvirt/1.0';
const NAME = 'bench-ha';
const UUID = 'b0000000-0000-4000-8000-0000000000b1';

type Point = 'event' | 'accepted' | 'issued' | 'running' | 'finished';
let marks: Partial<Record<Point, bigint>> = {};
const mark = (p: Point) => (marks[p] ??= process.hrtime.bigint());

const log = pino(
  { level: 'info', base: undefined },
  {
    write(line: string) {
      const o = JSON.parse(line) as { msg?: string; task?: string; state?: string; status?: string };
      if (o.msg === 'libvirt event: sending VM notification') mark('event');
      else if (o.msg === 'notification delivered') mark('accepted');
      else if (o.task === 'StartInstanceTask' && o.state === 'RUNNING') mark('issued');
      else if (o.msg === 'domain started (virDomainCreate)') mark('running');
      else if (o.status === 'finished' && o.msg?.startsWith('notification ')) mark('finished');
    },
  },
);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function until(cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const lab = await LibvirtLab.start();
const dir = mkdtempSync(join(tmpdir(), 'masakari-bench-allinone-'));
const conn = LibvirtConnection.open(lab.uri);
const dom = conn.defineXML(tinyDomainXml({ name: NAME, uuid: UUID }));
await dom.start();
dom.setMetadata(NS, 'masakari', '<ha enabled="true"/>', 1 | 2);
const config = loadConfig({
  env: {},
  overrides: {
    data_dir: dir,
    api: { listen: '127.0.0.1:0' },
    compute: { hostname: 'bench-host' },
    libvirt: { connection_uri: lab.uri },
    engine: { verify_interval: 0.05, duplicate_notification_detection_interval: 0 },
    instance_restart_limit: { max_restarts: 100000 },
  },
});
const running = await all.start(config, log);
const parts: Record<string, number[]> = { event: [], accepted: [], issued: [], running: [], total: [], finished: [] };
try {
  for (let i = 0; i < runs; i++) {
    const pid = lab.qemuPid(NAME);
    if (pid === null) throw new Error('no QEMU');
    marks = {};
    const t0 = process.hrtime.bigint();
    process.kill(pid, 'SIGKILL');
    await until(() => marks.finished !== undefined);
    const ms = (p: Point) => Number(marks[p]! - t0) / 1e6;
    parts.event!.push(ms('event'));
    parts.accepted!.push(ms('accepted') - ms('event'));
    parts.issued!.push(ms('issued') - ms('accepted'));
    parts.running!.push(ms('running') - ms('issued'));
    parts.total!.push(ms('running'));
    parts.finished!.push(ms('finished'));
    await until(() => lab.qemuPid(NAME) !== null && lab.qemuPid(NAME) !== pid);
    await new Promise((r) => setTimeout(r, 300)); // let the new QEMU settle before the next kill
  }
} finally {
  await running.stop();
  dom.free();
  conn.close();
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
}

const rows: [string, string][] = [
  ['event', 'kill -9 -> libvirt event at the instance monitor'],
  ['accepted', 'event -> notification stored (202, status new)'],
  ['issued', 'accepted -> StartInstanceTask starts (engine claim, restart-limit and stop tasks)'],
  ['running', 'issued -> virDomainCreate returned (domain running)'],
  ['total', 'kill -9 -> domain running'],
  ['finished', 'kill -9 -> notification finished (active confirmed)'],
];
console.log(`runs: ${runs}`);
console.log('| part | median ms | p99 ms |');
console.log('|---|---:|---:|');
for (const [k, label] of rows) {
  const s = [...parts[k]!].sort((a, b) => a - b);
  console.log(`| ${label} | ${pct(s, 50).toFixed(1)} | ${pct(s, 99).toFixed(1)} |`);
}
