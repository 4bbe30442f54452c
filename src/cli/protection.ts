// `masakari protection [--segment NAME|UUID] [--json]`: is this cloud protected right now? Asks the controller's
// GET /v1/x-masakari/protection and prints a table (or the report as JSON). Exit codes, for cron, Nagios or a CI gate:
//   0 every host and segment protected, no warning
//   1 protected, with warnings only
//   2 at least one host or segment unprotected
//   3 the report could not be had (controller unreachable, refused, bad configuration): the state is UNKNOWN
// (yargs' own usage errors also exit 2, with the usage text.) docs/protection.md explains every reason.

import type { CommandModule } from 'yargs';
import { configFromArgs, runCommand, type GlobalArgs } from './common.ts';
import { clientConfig, controllerClientOptions, controllerRequest, type ControllerClientArgs } from './controller-client.ts';
import { errorMessage } from '../core/errors.ts';
import { maskUrlCredentials } from '../core/mask.ts';
import type { ProtectionReport } from '../core/protection/service.ts';

interface Args extends GlobalArgs, ControllerClientArgs {
  segment?: string;
  json?: boolean;
}

export const EXIT_PROTECTED = 0;
export const EXIT_WARNINGS = 1;
export const EXIT_UNPROTECTED = 2;
export const EXIT_UNKNOWN = 3;

export function exitCodeOf(r: ProtectionReport): number {
  if (r.hosts.some((h) => !h.protected) || r.segments.some((s) => !s.protected)) return EXIT_UNPROTECTED;
  if (r.hosts.some((h) => h.warnings.length > 0)) return EXIT_WARNINGS;
  return EXIT_PROTECTED;
}

/** The report for people: one line per host, its reasons and warnings indented below, then the segments. */
export function renderReport(r: ProtectionReport): string {
  const lines: string[] = [];
  const rows = r.hosts.map((h) => [
    h.segment,
    h.name,
    h.protected ? (h.warnings.length ? 'yes (warnings)' : 'yes') : 'NO',
    h.agent ? (h.agent.silent ? 'silent' : 'ok') : 'none',
    h.fencing.state,
  ]);
  const head = ['SEGMENT', 'HOST', 'PROTECTED', 'AGENT', 'FENCING'];
  const widths = head.map((t, i) => Math.max(t.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  lines.push(fmt(head));
  r.hosts.forEach((h, i) => {
    lines.push(fmt(rows[i]!));
    for (const reason of h.reasons) lines.push(`    - ${reason}`);
    for (const w of h.warnings) lines.push(`    ! ${w}`);
  });
  lines.push('');
  for (const s of r.segments) {
    const n1 = s.n_plus_one === null ? 'not computed' : s.n_plus_one ? 'yes' : `NO (${s.breaking_hosts.join(', ')})`;
    lines.push(`segment ${s.name}: ${s.protected ? 'protected' : 'NOT protected'}; survives the loss of any one host: ${n1}`);
    for (const reason of s.reasons) lines.push(`    - ${reason}`);
  }
  lines.push(`(report of ${r.generated_at})`);
  return lines.join('\n') + '\n';
}

export const protectionCommand: CommandModule<GlobalArgs, Args> = {
  command: 'protection',
  describe: 'is every host protected now? the controller’s report (exit 0 yes, 1 warnings, 2 unprotected, 3 unknown)',
  builder: (y) =>
    controllerClientOptions(y)
      .option('segment', { type: 'string', describe: 'only this segment (name or uuid)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
  handler: (args) =>
    runCommand(async () => {
      let report: ProtectionReport;
      try {
        const config = clientConfig(configFromArgs(args), args);
        const q = args.segment ? `?segment=${encodeURIComponent(args.segment)}` : '';
        report = (await controllerRequest(config, 'GET', `/x-masakari/protection${q}`)) as ProtectionReport;
      } catch (e) {
        process.stderr.write(`masakari: cannot get the protection report: ${maskUrlCredentials(errorMessage(e))}\n`);
        return EXIT_UNKNOWN;
      }
      process.stdout.write(args.json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report));
      return exitCodeOf(report);
    }),
};
