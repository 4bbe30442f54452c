import type { CommandModule } from 'yargs';
import { configFromArgs, runCommand, type GlobalArgs } from './common.ts';
import { createLogger } from '../core/log.ts';
import { createFencer } from '../drivers/fence/index.ts';

interface Args extends GlobalArgs {
  action: 'status' | 'off' | 'on';
  host: string;
  yes?: boolean;
}

// `masakari fence status HOST` asks the host's BMC (as configured under fencing.hosts) for its power state, so
// operators can check fencing settings before a failure needs them. `off`/`on` act for real and need --yes.
// Exit codes: 0 done (status: powered on), 3 status: powered off, 4 status unknown, 1 the BMC could not be reached
// or refused, 2 bad configuration or usage.
export const fenceCommand: CommandModule<GlobalArgs, Args> = {
  command: 'fence <action> <host>',
  describe: "query or drive a host's fencer (fencing.hosts): status, off, on",
  builder: (y) =>
    y
      .positional('action', { choices: ['status', 'off', 'on'] as const, demandOption: true })
      .positional('host', { type: 'string', demandOption: true, describe: 'host name as in fencing.hosts' })
      .option('yes', { type: 'boolean', default: false, describe: 'confirm a power action (off/on)' }),
  handler: (args) =>
    runCommand(async () => {
      const config = configFromArgs(args);
      if (args.action !== 'status' && !args.yes) {
        process.stderr.write(`masakari: 'fence ${args.action}' powers ${args.host} ${args.action} for real: add --yes to confirm\n`);
        return 2;
      }
      const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level, config.log.format);
      const fencer = createFencer(config.fencing, { logger: log.child({ component: 'fence' }) });
      if (args.action === 'status') {
        const state = await fencer.status(args.host);
        process.stdout.write(`${args.host}: power ${state}\n`);
        return state === 'on' ? 0 : state === 'off' ? 3 : 4;
      }
      const result = args.action === 'off' ? await fencer.powerOff(args.host) : await fencer.powerOn(args.host);
      process.stdout.write(`${args.host}: power ${result.confirmed} (${result.evidence})\n`);
      return result.confirmed === args.action ? 0 : 1;
    }),
};
