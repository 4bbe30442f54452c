import type { CommandModule } from 'yargs';
import { configFromArgs, runCommand, type GlobalArgs } from './common.ts';
import { createLogger } from '../core/log.ts';
import * as controller from '../roles/controller.ts';
import * as compute from '../roles/compute.ts';
import * as all from '../roles/all.ts';

const roles = { controller, compute, all };

type Role = 'controller' | 'compute' | 'all';

export const serveCommand: CommandModule<GlobalArgs, GlobalArgs & { role?: Role }> = {
  command: '$0',
  describe: 'run a role: controller (API + engine), compute (monitors), all (both, in one process)',
  builder: (y) => y.option('role', { choices: ['controller', 'compute', 'all'] as const, describe: 'what to run' }),
  handler: (args) =>
    runCommand(async () => {
      if (!args.role) {
        process.stderr.write('masakari: choose a role with --role=controller|compute|all (see --help)\n');
        return 2;
      }
      const config = configFromArgs(args);
      const log = createLogger(config.log.level, config.log.format);
      const running = await roles[args.role].start(config, log);
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          log.info({ signal: sig }, 'stopping');
          running.stop().then(resolve, (e) => {
            log.error({ err: e }, 'error while stopping');
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      return 0;
    }),
};
