import type { CommandModule } from 'yargs';
export const dbCommand: CommandModule = { command: 'db', describe: '(coming)', handler: () => {} };
