import type { CommandModule } from 'yargs';
export const statusCommand: CommandModule = { command: 'status', describe: '(coming)', handler: () => {} };
