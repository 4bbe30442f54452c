// Small pieces the lab benchmarks share: a timestamped progress line on stderr, the machine they ran on, a median.

import { cpus, loadavg, totalmem } from 'node:os';

/** A progress line on stderr (stdout carries the results table). */
export const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

/** What a result must be read against: CPUs, memory, Node and the load when the run started. */
export function machineLine(): string {
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return `machine: ${cpus().length} x ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${load}`;
}

/** The median (the mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
