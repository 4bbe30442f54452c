// Options shared by every command and the one place that turns them into a Config.

import type { Argv } from 'yargs';
import { loadConfig, ConfigError } from '../core/config/load.ts';
import type { Config } from '../core/config/schema.ts';
import { checkSemantics } from '../core/config/semantic.ts';
import { maskUrlCredentials } from '../core/mask.ts';
import { errorMessage } from '../core/errors.ts';
import { exitProcess } from '../core/exit.ts';

export interface GlobalArgs {
  config?: string;
  listen?: string;
  database?: string;
  auth?: 'noauth2' | 'keystone';
  'log-level'?: string;
}

export function globalOptions<T>(y: Argv<T>) {
  return y
    .option('config', { type: 'string', describe: 'YAML configuration file (or MASAKARI_CONFIG)' })
    .option('listen', { type: 'string', describe: 'API address HOST:PORT (api.listen)' })
    .option('database', { type: 'string', describe: 'database URL (database.url)' })
    .option('auth', { choices: ['noauth2', 'keystone'] as const, describe: 'API auth strategy (api.auth_strategy)' })
    .option('log-level', { type: 'string', describe: 'log level (log.level)' });
}

/** Exit codes: 2 = bad configuration (also used by yargs for bad usage). */
export const EXIT_BAD_CONFIG = 2;

export function configFromArgs(args: GlobalArgs, extra: Record<string, unknown> = {}): Config {
  const overrides: Record<string, Record<string, unknown>> = {};
  const set = (section: string, key: string, v: unknown) => {
    if (v === undefined) return;
    (overrides[section] ??= {})[key] = v;
  };
  set('api', 'listen', args.listen);
  set('api', 'auth_strategy', args.auth);
  set('database', 'url', args.database);
  set('log', 'level', args['log-level']);
  for (const [section, values] of Object.entries(extra)) {
    overrides[section] = { ...(overrides[section] ?? {}), ...(values as Record<string, unknown>) };
  }
  const file = args.config ?? process.env.MASAKARI_CONFIG;
  return checkSemantics(loadConfig({ file, env: process.env, overrides, warn: warnOnce }), file ?? 'configuration');
}

const warned = new Set<string>();

/** Before the logger exists (its settings come from the configuration): straight to stderr, once per process. */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`masakari: warning: ${message}\n`);
}

/**
 * Runs a command body; a ConfigError becomes a clear message on stderr and exit code 2. The process ends through
 * exitProcess (src/core/exit.ts): process.exit() could wait forever for a thread stuck in libvirt.
 */
export async function runCommand(body: () => Promise<number | void>): Promise<never> {
  try {
    const code = await body();
    exitProcess(code ?? 0);
  } catch (e) {
    if (e instanceof ConfigError || (e as Error)?.name === 'TaskConfigError') {
      // Bad configuration found after the schema (e.g. a recovery task list naming an unknown task): same exit code.
      process.stderr.write(`masakari: ${maskUrlCredentials(errorMessage(e))}\n`);
      exitProcess(EXIT_BAD_CONFIG);
    }
    // Operators get the reason, not a stack trace; MASAKARI_DEBUG=1 shows where it came from.
    const err = e as Error;
    const detail = process.env.MASAKARI_DEBUG
      ? (err.stack ?? String(err))
      : `${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message ?? String(err)}`;
    // A URL from the configuration may be in the message (database.url...): never with its password.
    process.stderr.write(`masakari: ${maskUrlCredentials(detail)}\n`);
    exitProcess(1);
  }
}
