// `masakari whatif --lose HOST [--json]`: asks the controller (GET /v1/x-masakari/whatif?lose=HOST) what it would do
// if HOST failed now, and prints the plan: a table for people, or the API's JSON with --json.
// Exit codes: 0 every instance the rules would recover has a place; 2 some would not be recovered (no capacity, no
// reserved host, segment disabled, ...); 1 the controller could not be asked; 2 also for bad usage or configuration.

import type { CommandModule } from 'yargs';
import type { WhatIfPlan, ResourceView } from '../core/protection/whatif/types.ts';
import { configFromArgs, runCommand, type GlobalArgs } from './common.ts';
import { clientConfig, controllerClientOptions, controllerRequest, type ControllerClientArgs } from './controller-client.ts';

interface Args extends GlobalArgs, ControllerClientArgs {
  lose: string;
  json?: boolean;
}

/** Reasons the rules choose on purpose: the instance is not expected to come back, so it does not fail the check. */
const ON_PURPOSE = /^(not HA-enabled|in error state)/;

export function wouldLoseInstances(plan: WhatIfPlan): boolean {
  return plan.instances.some((i) => !i.recovered && !ON_PURPOSE.test(i.reason ?? ''));
}

const n = (v: number | null) => (v === null ? '?' : String(v));
const pair = (b: ResourceView, a: ResourceView, k: keyof ResourceView) => (b[k] === null && a[k] === null ? 'n/a' : `${n(b[k])} -> ${n(a[k])}`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}

/** The plan for people. */
export function formatPlan(p: WhatIfPlan): string {
  const out: string[] = [];
  out.push(`If ${p.host} failed now (segment ${p.segment}, recovery method ${p.recovery_method}: ${p.flows.join(' then ')}):`);
  out.push('');
  if (p.instances.length === 0) out.push('  no instances on this host');
  else {
    const rows = [['INSTANCE', 'ID', 'RECOVERED', 'TARGET', 'REASON']];
    for (const i of p.instances) {
      const target = i.recovered ? (i.target ?? `scheduler picks: ${i.candidates.join(', ')}`) : '-';
      rows.push([i.name || '-', i.id, i.recovered ? 'yes' : 'NO', target, i.reason ?? '']);
    }
    out.push(table(rows));
  }
  if (p.capacity.length > 0) {
    out.push('', 'Free capacity (before -> after):');
    const rows = [['HOST', 'VCPUS', 'RAM_MB', 'DISK_GB']];
    for (const c of p.capacity) rows.push([c.host, pair(c.before, c.after, 'vcpus'), pair(c.before, c.after, 'ram_mb'), pair(c.before, c.after, 'disk_gb')]);
    out.push(table(rows));
  }
  out.push('');
  out.push(p.shortfall ? `Shortfall: ${p.shortfall.vcpus} vCPU, ${p.shortfall.ram_mb} MB RAM, ${p.shortfall.disk_gb} GB disk` : 'Shortfall: none');
  const b = p.makespan_basis;
  const basis = b.measured_evacuations > 0 ? `median of ${b.measured_evacuations} measured evacuations` : 'default, nothing measured yet';
  out.push(
    `Estimated makespan: ${p.estimated_makespan_seconds} s (${b.evacuation_seconds} s per evacuation, ${basis}; ${b.workers} workers, ` +
      `at most ${b.max_evacuations_per_target_host} at once per reserved host)`,
  );
  for (const w of p.warnings) out.push(`Warning: ${w}`);
  return out.join('\n') + '\n';
}

export const whatifCommand: CommandModule<GlobalArgs, Args> = {
  command: 'whatif',
  describe: 'what the controller would do if a host failed now (GET /v1/x-masakari/whatif)',
  builder: (y) =>
    controllerClientOptions(y)
      .option('lose', { type: 'string', demandOption: true, describe: 'the host (as registered in Masakari) to imagine failed' })
      .option('json', { type: 'boolean', default: false, describe: "print the API's JSON instead of a table" }),
  handler: (args) =>
    runCommand(async () => {
      const config = clientConfig(configFromArgs(args), args);
      // A plan asks Nova for every instance and hypervisor: allow it a minute whatever the agent's own timeout.
      const path = `/x-masakari/whatif?lose=${encodeURIComponent(args.lose)}`;
      const plan = (await controllerRequest(config, 'GET', path, { minTimeoutMs: 60_000 })) as WhatIfPlan;
      process.stdout.write(args.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
      return wouldLoseInstances(plan) ? 2 : 0;
    }),
};
