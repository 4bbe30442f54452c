// Wiring only: the controller role = store + API + recovery engine. No logic lives here.
import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { ComputeDriver } from '../core/ports/compute.ts';
import { realEnv } from '../core/env.ts';
import { openStore } from '../core/store/open.ts';
import type { Store } from '../core/store/types.ts';
import { createApiApp, startApiServer, type ApiApp } from '../core/api/app.ts';
import { createEngine, type Engine, type EngineObserver } from '../core/engine/index.ts';
import { createBackends } from './backends.ts';
import { ownerIdOf } from './backends.ts';
import type { Running } from './types.ts';

export interface RunningController extends Running {
  store: Store;
  engine: Engine;
  port: number;
  /** The API app itself: --role=all hands monitor notifications to it in-process (app.request), no socket. */
  app: ApiApp;
}

export async function start(config: Config, log: Logger, opts: { compute?: ComputeDriver; store?: Store; observer?: EngineObserver } = {}): Promise<RunningController> {
  const store = opts.store ?? (await openStore(config));
  const backends = await createBackends(config, log, opts.compute);
  const engine = createEngine({
    store,
    compute: backends.compute,
    ...(backends.fence ? { fence: backends.fence } : {}),
    config,
    env: realEnv,
    log,
    ownerId: ownerIdOf(config),
    ...(opts.observer ? { observer: opts.observer } : {}),
  });
  const app = createApiApp({
    store,
    config,
    log,
    hostCatalog: backends.hostCatalog,
    // Deferred so the 202 is written before the engine's first (synchronous SQLite) step runs.
    onNotificationAccepted: (n) => setImmediate(() => engine.notificationAccepted(n)),
    ...(backends.tokenValidator ? { tokenValidator: backends.tokenValidator } : {}),
  });
  await engine.start();
  const api = await startApiServer(app, config.api.listen, { log, env: realEnv });
  log.info({ listen: config.api.listen, port: api.port, auth: config.api.auth_strategy, database: store.dialect, compute: backends.compute.name }, 'controller started');
  return {
    store,
    engine,
    port: api.port,
    app,
    async stop() {
      await api.close();
      await engine.stop();
      await backends.close();
      if (!opts.store) await store.close();
    },
  };
}
