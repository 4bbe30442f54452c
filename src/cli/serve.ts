import type { CommandModule } from 'yargs';
import { configFromArgs, runCommand, type GlobalArgs } from './common.ts';
import { createLogger, tolerateBrokenStdio } from '../core/log.ts';
import { runUntilSignal } from './shutdown.ts';
import { connectServiceManager } from './systemd.ts';
import * as controller from '../roles/controller.ts';
import * as compute from '../roles/compute.ts';
import * as all from '../roles/all.ts';

const roles = { controller, compute, all };

type Role = 'controller' | 'compute' | 'all';

export const serveCommand: CommandModule<GlobalArgs, GlobalArgs & { role?: Role; 'check-config'?: boolean }> = {
  command: '$0',
  describe: 'run a role: controller (API + engine), compute (monitors), all (both, in one process)',
  builder: (y) =>
    y.option('role', { choices: ['controller', 'compute', 'all'] as const, describe: 'what to run' }).option('check-config', {
      type: 'boolean',
      describe: 'validate the configuration (file, MASAKARI_* environment, flags) as --role would, then exit: 0 valid, 2 not',
    }),
  handler: (args) =>
    runCommand(async () => {
      if (!args.role) {
        process.stderr.write('masakari: choose a role with --role=controller|compute|all (see --help)\n');
        return 2;
      }
      const config = configFromArgs(args);
      if (args['check-config']) {
        process.stdout.write(`masakari --role=${args.role}: configuration OK\n`);
        return 0;
      }
      // A terminal or pipe that went away must not end (or hang) a role in the middle of its work or its stop.
      tolerateBrokenStdio();
      const log = createLogger(config.log.level, config.log.format);
      // Before start: the watchdog also covers a start that hangs with a blocked event loop.
      const systemd = await connectServiceManager(log);
      try {
        const running = await roles[args.role].start(config, log);
        systemd.ready(`${args.role} role serving`);
        return await runUntilSignal(running, log, config.shutdown_timeout * 1000, () => systemd.stopping());
      } finally {
        systemd.close();
      }
    }),
};
