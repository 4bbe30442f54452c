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
import { EventBus } from '../core/observe/bus.ts';
import { startEventHistory } from '../core/observe/history.ts';
import { startNotifier, type NotificationSink } from '../core/observe/notifier.ts';
import { parseTransportUrl } from '../core/observe/transport-url.ts';
import { AmqpNotificationSink } from '../drivers/notify/amqp.ts';
import { noopRegistry, type MetricsRegistry } from '../core/observe/metrics.ts';
import { controllerMetrics, protectionMetrics } from '../core/observe/metric-set.ts';
import { startRoleMetrics, type RoleMetrics } from './metrics.ts';
import { FencingReadiness } from '../core/protection/readiness.ts';
import { ProtectionService, type ProtectionReport } from '../core/protection/service.ts';
import { setProtectionGauges } from '../core/protection/metrics.ts';
import { WhatIfCapacityVerdict } from '../core/protection/whatif/verdict.ts';

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

/** messagingv2: the AMQP sink for Masakari's versioned notifications (config checked transport_url is there). */
function notificationSink(config: Config, log: Logger): NotificationSink | undefined {
  const c = config.oslo_messaging_notifications;
  if (c.driver !== 'messagingv2' || c.transport_url === null) return undefined;
  return new AmqpNotificationSink({
    url: parseTransportUrl(c.transport_url),
    exchange: c.exchange,
    bufferSize: c.buffer_size,
    reconnectInitialMs: c.reconnect_initial_seconds * 1000,
    reconnectMaxMs: c.reconnect_max_seconds * 1000,
    log,
  });
}

export interface RunningController extends Running {
  store: Store;
  /** The process's event bus (docs/observability.md): metrics and other consumers subscribe here. */
  bus: EventBus;
  engine: Engine;
  protection: ProtectionService;
  port: number;
  /** The API app itself: --role=all hands monitor notifications to it in-process (app.request), no socket. */
  app: ApiApp;
  /** The metrics listener's port (null: metrics off, or served by the caller's registry under --role=all). */
  metricsPort: number | null;
}

export async function start(
  config: Config,
  log: Logger,
  /** metrics: a registry another role part owns (--role=all); without it the controller starts its own listener. */
  opts: { compute?: ComputeDriver; store?: Store; observer?: EngineObserver; bus?: EventBus; metrics?: MetricsRegistry } = {},
): Promise<RunningController> {
  const store = opts.store ?? (await openStore(config, { log }));
  const backends = await createBackends(config, log, opts.compute);
  const own: RoleMetrics | null = opts.metrics ? null : await startRoleMetrics(config, log);
  const registry = opts.metrics ?? own!.registry;
  const metrics = controllerMetrics(registry);
  // One bus per process: --role=all hands in the one it shares with the compute side.
  const bus = opts.bus ?? new EventBus(log.child({ component: 'event-bus' }));
  const history = startEventHistory(bus, store, log, { keep: config.events.history_size });
  const notifier = startNotifier(bus, config, log, notificationSink(config, log));
  const readiness = backends.fencer
    ? new FencingReadiness({ fencer: backends.fencer, intervalMs: config.fencing.readiness_interval * 1000, env: realEnv, log })
    : undefined;
  // The what-if planner needs a compute backend; without one there is no capacity verdict (n_plus_one: null).
  const whatif =
    config.controller.compute_driver === 'none' && !opts.compute
      ? undefined
      : { store, compute: backends.compute, config, fencingConfigured: backends.fence !== undefined };
  const capacity = whatif ? new WhatIfCapacityVerdict(whatif, realEnv) : undefined;
  // The protection gauges (masakari_host_protected, ...) exist only when metrics are on.
  const gauges = registry !== noopRegistry ? protectionMetrics(registry) : undefined;
  // protection.change is published on the bus (docs/protection.md).
  const protection = new ProtectionService({
    store,
    config,
    env: realEnv,
    log,
    ...(readiness ? { readiness } : {}),
    ...(capacity ? { capacity } : {}),
    bus,
    ...(gauges ? { onReport: (r: ProtectionReport) => setProtectionGauges(gauges, r) } : {}),
  });
  const engine = createEngine({
    store,
    compute: backends.compute,
    ...(backends.fence ? { fence: backends.fence } : {}),
    config,
    env: realEnv,
    log,
    ownerId: ownerIdOf(config),
    ...(opts.observer ? { observer: opts.observer } : {}),
    bus,
    metrics,
  });
  const app = createApiApp({
    bus,
    eventFeed: history,
    store,
    config,
    log,
    hostCatalog: backends.hostCatalog,
    // Deferred so the 202 is written before the engine's first (synchronous SQLite) step runs.
    onNotificationAccepted: (n) => setImmediate(() => engine.notificationAccepted(n)),
    ...(backends.tokenValidator ? { tokenValidator: backends.tokenValidator } : {}),
    extensions: whatif ? { whatif } : {},
    // Metrics off: no request middleware at all (the GET path's throughput matters).
    ...(registry !== noopRegistry ? { metrics } : {}),
    ...(backends.passwordLogin ? { dashboard: { login: backends.passwordLogin } } : {}),
    protection: { service: protection, ...(readiness ? { readiness } : {}) },
  });
  await engine.start();
  registry.onCollect(() => engine.reportMetrics());
  let api: RunningApi;
  try {
    api = await startApiServer(app, config.api.listen, { log, env: realEnv });
  } catch (e) {
    await engine.stop().catch(() => undefined);
    await notifier.stop().catch(() => undefined);
    await history.stop().catch(() => undefined);
    await backends.close().catch(() => undefined);
    if (!opts.store) await store.close().catch(() => undefined);
    await own?.stop();
    throw listenFailure(e, config.api.listen);
  }
  readiness?.start();
  protection.start();
  log.info(
    { listen: config.api.listen, port: api.port, auth: config.api.auth_strategy, database: store.dialect, compute: backends.compute.name },
    'controller started',
  );
  // Stop order: no new requests, then no new recovery steps, then the drivers, then the store they all wrote to.
  const stops = stopSequence(
    [
      { name: 'API server', stop: () => api.close() },
      {
        name: 'protection checks',
        stop: async () => {
          await protection.stop();
          await readiness?.stop();
        },
      },
      { name: 'engine', stop: () => stopEngine(engine, backends, config.shutdown_timeout * 500) },
      // After the engine (its last events), before the store: the history writes what is queued.
      { name: 'versioned notifications', stop: () => notifier.stop() },
      { name: 'event history', stop: () => history.stop() },
      { name: `${backends.compute.name} compute driver`, stop: () => backends.close() },
      ...(opts.store ? [] : [{ name: 'store', stop: () => store.close() }]),
      ...(own && own.port !== null ? [{ name: 'metrics listener', stop: () => own.stop() }] : []),
    ],
    log,
  );
  return {
    store,
    bus,
    engine,
    protection,
    port: api.port,
    app,
    metricsPort: own?.port ?? null,
    stop: () => stops.stop(),
    pending: () => stops.pending(),
  };
}

/**
 * The engine's stop aborts its workflows and waits for them; a workflow waiting on a frozen Nova or Keystone would
 * hold it until shutdown_timeout (and keep its claim until the lease runs out). After half the bound, the calls
 * still in flight are ended, so the workflows end as aborted and their claims are released before the process exits.
 */
async function stopEngine(engine: Engine, backends: { interrupt(): void }, graceMs: number): Promise<void> {
  const stopped = engine.stop();
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  try {
    if ((await Promise.race([stopped.then(() => 'done' as const), grace])) === 'late') backends.interrupt();
    await stopped;
  } finally {
    clearTimeout(timer);
  }
}
