#!/usr/bin/env node
// masakari: one executable for every role. `masakari --role=controller|compute|all` serves;
// the subcommands manage the database, check configuration and drive tools (simulator, monitors).

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { VERSION } from './version.ts';
import { globalOptions } from './cli/common.ts';
import { serveCommand } from './cli/serve.ts';
import { dbCommand } from './cli/db.ts';
import { statusCommand } from './cli/status.ts';
import { configCommand } from './cli/config.ts';
import { simCommand } from './cli/sim.ts';
import { monitorsCommand } from './cli/monitors.ts';
import { fenceCommand } from './cli/fence.ts';
import { selftestCommand } from './cli/selftest.ts';
import { whatifCommand } from './cli/whatif.ts';
import { protectionCommand } from './cli/protection.ts';

await globalOptions(yargs(hideBin(process.argv)))
  .scriptName('masakari')
  .usage('$0 --role=controller|compute|all [options]\n$0 <command> [options]')
  .command(serveCommand)
  .command(dbCommand)
  .command(statusCommand)
  .command(configCommand)
  .command(simCommand)
  .command(monitorsCommand)
  .command(fenceCommand)
  .command(selftestCommand)
  .command(whatifCommand)
  .command(protectionCommand)
  .version(VERSION)
  .alias('h', 'help')
  .epilogue(
    'Documentation: README.md and docs/ in the source tree (docs/lab.md: the all-in-one lab, step by step; ' +
      'config.example.yaml: every configuration key with its default).',
  )
  .strict()
  .wrap(Math.min(110, process.stdout.columns || 110))
  .fail((msg, err, y) => {
    if (err) throw err;
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- inside fail(), help() returns the text (typed Argv)
    process.stderr.write(`${y.help()}\n\nmasakari: ${msg}\n`);
    process.exit(2);
  })
  .parseAsync();
