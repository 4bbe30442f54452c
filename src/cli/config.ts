import type { CommandModule } from 'yargs';
export const configCommand: CommandModule = { command: 'config', describe: '(coming)', handler: () => {} };
