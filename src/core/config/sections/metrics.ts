import { z } from 'zod';
import { hostPort } from '../types.ts';

// The Prometheus metrics listener of every role (src/drivers/metrics/server.ts, docs/observability.md).

export const metricsSection = z.strictObject({
  /**
   * HOST:PORT of the metrics listener (GET /metrics), separate from the API and without its authentication: keep it
   * on loopback or a management network. null: no metrics. A controller and a compute agent on the same machine need
   * two ports. When the address is taken the role runs on without metrics and logs an error.
   */
  listen: hostPort.nullable().default('127.0.0.1:15870'),
});
