// Kill-to-delivered latency of the compute role, as deployed: SIGKILL of a domain's QEMU → libvirtd sees the death →
// `masakari --role=compute` (real CLI process: instance monitor, SQLite outbox, HTTP) → `masakari --role=controller`
// (real CLI process, own SQLite) has the VM notification stored and answered 202.
// Root needed (private libvirtd + QEMU lab, test/labs/libvirt). Method and results: bench/README.md.
//
// Usage: npx tsx bench/compute/kill-to-delivered.bench.ts [runs=20] [--json]

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import Database from 'better-sqlite3';
import { OutboxStore } from '../../src/core/delivery/outbox-store.ts';
import { TwoRolesLab } from './two-roles-lab.ts';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);
const asJson = args.includes('--json');
const WARMUP = 2;
const VM = { name: 'bench-vm', uuid: 'c0e1c5d2-0000-4000-8000-0000000000b1' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wall clock in ms with sub-ms fraction (the same clock the two roles stamp with Date.now()). */
const nowMs = () => performance.timeOrigin + performance.now();

async function poll<T>(what: string, get: () => T | undefined, ms = 30_000, everyMs = 2): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** masakari-monitors' generated_time: naive UTC with microseconds (ours carry milliseconds). */
const parseGenerated = (s: string) => Date.parse(`${s.slice(0, 23)}Z`);

function version(cmd: string, argv: string[]): string {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return '?';
  }
}

interface Sample {
  reaped: number;
  event: number;
  eventToStored: number;
  eventTo202: number;
  stored: number;
  acked: number;
  /** Diagnostic: the engine's last status change of the notification (ms) minus the 202 at the agent. */
  engineUpdateMinus202: number | null;
}

const lab = await TwoRolesLab.start({ logLevel: 'warn' });
const samples: Sample[] = [];
const load0 = os.loadavg();
try {
  await lab.startController();
  await lab.registerComputeHost();
  lab.defineDomain(VM.name, VM.uuid);
  await lab.startCompute();
  await poll('the controller database', () => (existsSync(lab.controllerDb) ? true : undefined));
  const db = new Database(lab.controllerDb, { readonly: true, fileMustExist: true });
  const countStored = db.prepare('SELECT COUNT(*) AS n FROM notifications');
  const lastStored = db.prepare('SELECT created_at, generated_time FROM notifications ORDER BY id DESC LIMIT 1');
  const outbox = new OutboxStore(lab.outboxPath, { readonly: true });
  try {
    for (let i = 0; i < WARMUP + runs; i++) {
      const pid = await lab.startDomain(VM.name);
      await sleep(500); // let the start settle (its events, the QEMU monitor handshake) before the crash
      const before = (countStored.get() as { n: number }).n;
      const killedAt = nowMs();
      process.kill(pid, 'SIGKILL');
      // The floor: the killed QEMU reaped by libvirtd's subreaper (tini -s); /proc/PID exists while it is a zombie.
      const reapedAt = await poll('QEMU reaped', () => (existsSync(`/proc/${pid}`) ? undefined : nowMs()), 30_000, 1);
      const stored = await poll(
        'the notification stored at the controller',
        () => ((countStored.get() as { n: number }).n > before ? (lastStored.get() as { created_at: number; generated_time: number }) : undefined),
        30_000,
        5,
      );
      const sent = await poll('the outbox row marked sent', () => {
        const row = outbox
          .list('sent', 100_000)
          .find((r) => r.draft.payload.instance_uuid === VM.uuid && parseGenerated(r.draft.generated_time) * 1000 === stored.generated_time);
        return row;
      });
      const eventAt = parseGenerated(sent.draft.generated_time);
      const updated =
        (db.prepare('SELECT updated_at FROM notifications WHERE generated_time = ?').get(stored.generated_time) as { updated_at: number | null } | undefined)
          ?.updated_at ?? null;
      const storedAt = stored.created_at / 1000;
      const ackedAt = sent.updatedMs;
      if (i >= WARMUP) {
        samples.push({
          reaped: reapedAt - killedAt,
          event: eventAt - killedAt,
          eventToStored: storedAt - eventAt,
          eventTo202: ackedAt - eventAt,
          stored: storedAt - killedAt,
          acked: ackedAt - killedAt,
          engineUpdateMinus202: updated === null ? null : updated / 1000 - ackedAt,
        });
      }
      await lab.waitDomainState(VM.name, 'shut off');
      if (!asJson)
        process.stderr.write(`${i < WARMUP ? `warm-up ${i + 1}` : `run ${i + 1 - WARMUP}/${runs}`}: kill→stored ${(storedAt - killedAt).toFixed(1)} ms\n`);
      await sleep(200);
    }
  } finally {
    outbox.close();
    db.close();
  }
} finally {
  await lab.stop();
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const columns: [Exclude<keyof Sample, 'engineUpdateMinus202'>, string][] = [
  ['reaped', 'kill → QEMU reaped (floor)'],
  ['event', 'kill → event (VM draft at the monitor)'],
  ['eventToStored', 'event → stored at the controller'],
  ['eventTo202', 'event → 202 at the agent'],
  ['stored', 'kill → stored (controller created_at)'],
  ['acked', 'kill → 202 at the agent (delivered)'],
];
const summary = columns.map(([k, label]) => {
  const v = samples.map((s) => s[k]).sort((a, b) => a - b);
  return { metric: label, median: pct(v, 50), p99: pct(v, 99), min: v[0]!, max: v[v.length - 1]! };
});
const machine = {
  date: new Date().toISOString(),
  cpu: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`,
  memory_gib: Math.round(os.totalmem() / 2 ** 30),
  kernel: os.release(),
  node: process.version,
  libvirtd: version('/usr/sbin/libvirtd', ['--version']),
  qemu: version('/usr/bin/qemu-system-x86_64', ['--version']),
  loadavg_before: load0.map((x) => x.toFixed(1)).join(' '),
  loadavg_after: os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' '),
};

const engineFirst = samples.filter((s) => s.engineUpdateMinus202 !== null && s.engineUpdateMinus202 <= 0).length;

if (asJson) {
  console.log(JSON.stringify({ runs, machine, summary, samples }, null, 2));
} else {
  console.log(`kill → delivered, ${runs} runs (${WARMUP} warm-up runs not counted)`);
  for (const [k, v] of Object.entries(machine)) console.log(`  ${k}: ${v}`);
  console.log('\n| metric (ms) | median | p99 | min | max |\n|---|---:|---:|---:|---:|');
  for (const s of summary) console.log(`| ${s.metric} | ${s.median.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.min.toFixed(1)} | ${s.max.toFixed(1)} |`);
  console.log(`\nruns where the engine's last status change of the notification came before the 202 reached the agent: ${engineFirst}/${samples.length}`);
}
