// Wiring only: the controller role = store + API + recovery engine. No logic lives here.
import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { ComputeDriver } from '../core/ports/compute.ts';
import { realEnv } from '../core/env.ts';
import { openStore } from '../core/store/open.ts';
import type { Store } from '../core/store/types.ts';
import { createApiApp, startApiServer, type ApiApp, type RunningApi } from '../core/api/app.ts';
import { createEngine, type Engine, type EngineObserver } from '../core/engine/index.ts';
import { createBackends } from './backends.ts';
import { ownerIdOf } from './backends.ts';
import type { Running } from './types.ts';
import { stopSequence } from './stop-steps.ts';
import { AppError, errorCode, errorMessage } from '../core/errors.ts';

/** The API could not listen where configured; the message says why and what to change. */
export class ListenError extends AppError {
  readonly code = 'LISTEN_FAILED';
}

function listenFailure(e: unknown, listen: string): unknown {
  const code = errorCode(e);
  if (code === 'EADDRINUSE') {
    return new ListenError(
      `cannot listen on ${listen}: the address is in use (another masakari, or another lab, is running there?); ` +
        'stop it, or choose another address with api.listen (MASAKARI_API__LISTEN, --listen)',
      { cause: e },
    );
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new ListenError(`cannot listen on ${listen}: ${errorMessage(e)}; choose another address with api.listen (MASAKARI_API__LISTEN, --listen)`, {
      cause: e,
    });
  }
  return e;
}

export interface RunningController extends Running {
  store: Store;
  engine: Engine;
  port: number;
  /** The API app itself: --role=all hands monitor notifications to it in-process (app.request), no socket. */
  app: ApiApp;
}

export async function start(
  config: Config,
  log: Logger,
  opts: { compute?: ComputeDriver; store?: Store; observer?: EngineObserver } = {},
): Promise<RunningController> {
  const store = opts.store ?? (await openStore(config, { log }));
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
  let api: RunningApi;
  try {
    api = await startApiServer(app, config.api.listen, { log, env: realEnv });
  } catch (e) {
    await engine.stop().catch(() => undefined);
    await backends.close().catch(() => undefined);
    if (!opts.store) await store.close().catch(() => undefined);
    throw listenFailure(e, config.api.listen);
  }
  log.info(
    { listen: config.api.listen, port: api.port, auth: config.api.auth_strategy, database: store.dialect, compute: backends.compute.name },
    'controller started',
  );
  // Stop order: no new requests, then no new recovery steps, then the drivers, then the store they all wrote to.
  const stops = stopSequence(
    [
      { name: 'API server', stop: () => api.close() },
      { name: 'engine', stop: () => engine.stop() },
      { name: `${backends.compute.name} compute driver`, stop: () => backends.close() },
      ...(opts.store ? [] : [{ name: 'store', stop: () => store.close() }]),
    ],
    log,
  );
  return {
    store,
    engine,
    port: api.port,
    app,
    stop: () => stops.stop(),
    pending: () => stops.pending(),
  };
}
