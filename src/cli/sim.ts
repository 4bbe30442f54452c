import type { CommandModule } from 'yargs';
import { runCommand } from './common.ts';

// Owned by the engine work: `masakari sim run PATH` runs one simulator scenario and prints its log.
export const simCommand: CommandModule = {
  command: 'sim <action> <path>',
  describe: 'deterministic simulator: run a scenario file and print its log',
  builder: (y) => y.positional('action', { choices: ['run'] }).positional('path', { type: 'string' }),
  handler: () =>
    runCommand(async () => {
      process.stderr.write('masakari: the simulator is not implemented yet\n');
      return 1;
    }),
};
