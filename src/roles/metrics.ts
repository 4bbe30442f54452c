// Wiring only: the metrics registry and listener of a role (metrics.listen). --role=all starts one and hands it to
// both parts; a controller or compute agent started alone starts its own. Metrics never stop a role: when the
// listener cannot bind, the role runs on without metrics and says so in the log.

import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';
import { noopRegistry, type MetricsRegistry } from '../core/observe/metrics.ts';
import { errorMessage } from '../core/errors.ts';
import { PromRegistry } from '../drivers/metrics/prom.ts';
import { startMetricsServer } from '../drivers/metrics/server.ts';

export interface RoleMetrics {
  registry: MetricsRegistry;
  /** The port the listener is bound to; null when metrics are off or the listener could not bind. */
  port: number | null;
  stop(): Promise<void>;
}

export const METRICS_OFF: RoleMetrics = { registry: noopRegistry, port: null, stop: async () => {} };

export async function startRoleMetrics(config: Config, log: Logger): Promise<RoleMetrics> {
  const listen = config.metrics.listen;
  if (listen === null) return METRICS_OFF;
  const registry = new PromRegistry();
  try {
    const server = await startMetricsServer(registry, listen, log.child({ component: 'metrics' }));
    return { registry, port: server.port, stop: () => server.close() };
  } catch (e) {
    log.error(
      { listen, err: errorMessage(e) },
      `cannot listen for metrics on ${listen}: running without metrics (choose another address with metrics.listen, MASAKARI_METRICS__LISTEN; null turns metrics off)`,
    );
    return METRICS_OFF;
  }
}
