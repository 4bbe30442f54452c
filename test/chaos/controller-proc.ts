// A real controller process for the chaos tests: the controller role's own wiring (src/roles/controller.ts: API,
// engine, store from the configuration) with one difference, the compute driver, which talks to the sim cloud of the
// test process (sim-rpc.ts). The tests kill it with SIGKILL at random moments; nothing here handles that.
//
// Environment: CHAOS_CONFIG = the configuration tree as JSON (parsed by the real schema), CHAOS_SIM_URL = the sim
// cloud's RPC URL. Prints one line `READY <api port>` on stdout once the API listens.

import { parseConfig } from '../../src/core/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { start } from '../../src/roles/controller.ts';
import { RpcComputeDriver } from './sim-rpc.ts';

const config = parseConfig(JSON.parse(process.env.CHAOS_CONFIG ?? '{}'), 'CHAOS_CONFIG');
const log = createLogger(config.log.level, config.log.format);
const owner = config.controller.owner_id ?? `pid-${process.pid}`;
// The caller tag names the owner AND this life of it (pid), so a restarted controller's calls are told apart.
const compute = new RpcComputeDriver(process.env.CHAOS_SIM_URL ?? '', `${owner}#${process.pid}`);
const running = await start(config, log, { compute });
process.stdout.write(`READY ${running.port}\n`);
process.once('SIGTERM', () => {
  void running.stop().finally(() => process.exit(0));
});
