// A real controller process for the chaos tests: the controller role's own wiring (src/roles/controller.ts: API,
// engine, store from the configuration) with one difference, the compute driver, which talks to the sim cloud of the
// test process (sim-rpc.ts). The tests kill it with SIGKILL at random moments; nothing here handles that.
//
// Environment: CHAOS_CONFIG = the configuration tree as JSON (parsed by the real schema), CHAOS_SIM_URL = the sim
// cloud's RPC URL. Prints one line `READY <api port>` on stdout once the API listens.

import { parseConfig } from '../../src/core/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { start } from '../../src/roles/controller.ts';
import { openStore } from '../../src/core/store/open.ts';
import type { Store } from '../../src/core/store/types.ts';
import { RpcComputeDriver } from './sim-rpc.ts';

const config = parseConfig(JSON.parse(process.env.CHAOS_CONFIG ?? '{}'), 'CHAOS_CONFIG');
const log = createLogger(config.log.level, config.log.format);
const owner = config.controller.owner_id ?? `pid-${process.pid}`;
// The caller tag names the owner AND this life of it (pid), so a restarted controller's calls are told apart.
const compute = new RpcComputeDriver(process.env.CHAOS_SIM_URL ?? '', `${owner}#${process.pid}`);
// CHAOS_MUTATION=no-renew: a deliberately broken controller whose lease renewals write nothing (they say "renewed"),
// so its lease runs out while it works and another controller starts the same workflow. Only for checking by hand
// that the chaos assertions catch two workflows at once (docs/ha.md); never set by the tests.
let store: Store | undefined;
if (process.env.CHAOS_MUTATION === 'no-renew') {
  const real = await openStore(config);
  const held = new Set<string>();
  store = {
    ...real,
    renewNotificationClaim: async () => true,
    // The first claim of a host is real; its renewals (same key and notification) are not written.
    claimHostRecovery: async (key, uuid, owner, leaseMs, now) => {
      if (held.has(`${key} ${uuid}`)) return true;
      const ok = await real.claimHostRecovery(key, uuid, owner, leaseMs, now);
      if (ok) held.add(`${key} ${uuid}`);
      return ok;
    },
  };
}
const running = await start(config, log, { compute, ...(store ? { store } : {}) });
process.stdout.write(`READY ${running.port}\n`);
process.once('SIGTERM', () => {
  void running.stop().finally(() => void (store?.close() ?? Promise.resolve()).finally(() => process.exit(0)));
});
