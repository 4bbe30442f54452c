import type { CommandModule } from 'yargs';
import { runCommand } from './common.ts';

// Owned by the compute-role work: `masakari monitors host --once [--crm-mon-xml FILE]`.
export const monitorsCommand: CommandModule = {
  command: 'monitors <monitor>',
  describe: 'run or query one monitor (host --once prints what the host monitor makes of the cluster)',
  builder: (y) => y.positional('monitor', { choices: ['host'] }),
  handler: () =>
    runCommand(async () => {
      process.stderr.write('masakari: monitors are not implemented yet\n');
      return 1;
    }),
};
