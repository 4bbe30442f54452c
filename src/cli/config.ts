import type { CommandModule } from 'yargs';
import { stringify } from 'yaml';
import { loadConfig } from '../core/config/load.ts';
import { runCommand } from './common.ts';
import { checkSemantics } from '../core/config/semantic.ts';
import { maskUrlCredentials } from '../core/mask.ts';

interface Args {
  action: 'check';
  file: string;
  show?: boolean;
}

// `masakari config check FILE`: validates a configuration file without starting anything.
// Exit 0 when valid; exit 2 with every bad key's path and reason otherwise (same as startup).
export const configCommand: CommandModule<object, Args> = {
  command: 'config <action> <file>',
  describe: 'validate a configuration file (exit 2 with the key path and reason when it is invalid)',
  builder: (y) =>
    y
      .positional('action', { choices: ['check'] as const, demandOption: true })
      .positional('file', { type: 'string', demandOption: true, describe: 'YAML configuration file' })
      .option('show', { type: 'boolean', default: false, describe: 'print the effective configuration (defaults filled in)' }),
  handler: (args) =>
    runCommand(async () => {
      // The environment is not applied here: the command checks the file itself.
      const config = checkSemantics(loadConfig({ file: args.file }), args.file);
      if (args.show) process.stdout.write(stringify(redact(config)));
      process.stdout.write(`${args.file}: configuration OK\n`);
    }),
};

/** Hides values of keys that look like secrets, and the password of every URL, when printing a configuration. */
export function redact(value: unknown, key = ''): unknown {
  if (/pass(word)?|secret|token/i.test(key) && typeof value === 'string' && value !== '') return '***';
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}
