import type { CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';
import { runCommand } from './common.ts';

// `masakari sim run PATH` runs one simulator scenario (a directory with scenario.yaml, or a YAML file) and prints
// its log. With --check it also compares the log with the scenario's expected.log and exits 1 on a difference.
export const simCommand: CommandModule = {
  command: 'sim <action> <path>',
  describe: 'deterministic simulator: run a scenario file and print its log',
  builder: (y) =>
    y
      .positional('action', { choices: ['run'] })
      .positional('path', { type: 'string', describe: 'scenario directory or YAML file' })
      .option('check', { type: 'boolean', default: false, describe: 'compare with the expected log; exit 1 on difference' }),
  handler: (args) =>
    runCommand(async () => {
      const { loadScenario, runScenario, scenarioFiles, ScenarioError } = await import('../sim/index.ts');
      const path = String(args.path);
      let result;
      try {
        result = await runScenario(loadScenario(path));
      } catch (e) {
        if (e instanceof ScenarioError) {
          process.stderr.write(`masakari: ${e.message}\n`);
          return 2;
        }
        throw e;
      }
      process.stdout.write(result.text);
      if (!args.check) return 0;
      let expected: string;
      try {
        expected = readFileSync(scenarioFiles(path).expectedPath, 'utf8');
      } catch {
        process.stderr.write(`masakari: no expected log for ${path}\n`);
        return 1;
      }
      if (expected === result.text) return 0;
      process.stderr.write('masakari: the log differs from the expected log\n');
      return 1;
    }),
};
