import type { CommandModule } from 'yargs';
import { configFromArgs, runCommand, type GlobalArgs } from './common.ts';
import { ConfigError } from '../core/config/load.ts';
import type { Config } from '../core/config/schema.ts';
import { openStore } from '../core/store/open.ts';
import { errorMessage } from '../core/errors.ts';

// `masakari status upgrade check`, like masakari-status: runs checks and exits with
// 0 = all succeeded, 1 = at least one warning, 2 = at least one failure, 255 = a check could not run.

export type CheckResult = { code: 0 | 1 | 2; name: string; details: string | null };

const RESULT_NAMES = { 0: 'Success', 1: 'Warning', 2: 'Failure' } as const;

async function checkDatabase(config: Config): Promise<CheckResult> {
  const name = 'Database schema';
  const store = await openStore(config, { migrate: false, requireCurrentSchema: false });
  try {
    const { current, latest } = await store.schemaVersion();
    if (current < latest) {
      return { code: 2, name, details: `schema at version ${current}, the code needs ${latest}: run 'masakari db sync'` };
    }
    if (current > latest) {
      return { code: 2, name, details: `schema at version ${current} is newer than this release knows (${latest}): upgrade masakari` };
    }
    return { code: 0, name, details: null };
  } finally {
    await store.close();
  }
}

function checkAuth(config: Config): CheckResult {
  const name = 'API authentication';
  const { host } = splitListen(config.api.listen);
  const loopback = host === 'localhost' || host.startsWith('127.') || host === '::1';
  if (config.api.auth_strategy === 'noauth2' && !loopback) {
    return { code: 1, name, details: `auth_strategy noauth2 on ${config.api.listen}: anyone who reaches the port is admin` };
  }
  return { code: 0, name, details: null };
}

function checkFencing(config: Config): CheckResult {
  const name = 'Fencing before evacuation';
  const required = (config.host_failure as Record<string, unknown>).fencing_required;
  if (required === false) {
    return { code: 1, name, details: 'host_failure.fencing_required is false: hosts are evacuated without proof they are off' };
  }
  return { code: 0, name, details: null };
}

function splitListen(listen: string): { host: string } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0' };
}

export function renderResults(results: CheckResult[]): string {
  const rows = results.flatMap((r) => [`Check: ${r.name}`, `Result: ${RESULT_NAMES[r.code]}`, `Details: ${r.details ?? 'None'}`, null]);
  const width = Math.max(30, ...rows.map((r) => (r ?? '').length)) + 2;
  const line = `+${'-'.repeat(width)}+`;
  const cell = (s: string) => `| ${s.padEnd(width - 1)}|`;
  const out = [line, cell('Upgrade Check Results'), line];
  for (const r of rows) out.push(r === null ? line : cell(r));
  return out.join('\n') + '\n';
}

export const statusCommand: CommandModule<GlobalArgs, GlobalArgs & { area: string; action: string }> = {
  command: 'status <area> <action>',
  describe: 'status upgrade check: exit 0 ok, 1 warning, 2 failure, 255 error (like masakari-status)',
  builder: (y) => y.positional('area', { choices: ['upgrade'] as const }).positional('action', { choices: ['check'] as const }) as never,
  handler: (args) =>
    runCommand(async () => {
      let config: Config;
      try {
        config = configFromArgs(args);
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stdout.write(renderResults([{ code: 2, name: 'Configuration', details: e.message }]));
          return 2;
        }
        throw e;
      }
      const results: CheckResult[] = [];
      try {
        results.push(await checkDatabase(config));
      } catch (e) {
        process.stderr.write(`masakari: database check could not run: ${errorMessage(e)}\n`);
        return 255;
      }
      results.push(checkAuth(config), checkFencing(config));
      process.stdout.write(renderResults(results));
      return Math.max(...results.map((r) => r.code));
    }),
};
