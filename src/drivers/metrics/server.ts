// The metrics listener: its own small HTTP server (metrics.listen), never the API's port and never behind the API's
// authentication, so a scraper needs no Keystone token and a slow scrape never competes with API requests. It
// answers GET /metrics (and HEAD); everything else is 404. Bind it to loopback or a management network.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitHostPort } from '../../core/config/types.ts';
import type { Logger } from '../../core/log.ts';
import type { PromRegistry } from './prom.ts';

export interface RunningMetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(registry: PromRegistry, listen: string, log: Logger): Promise<RunningMetricsServer> {
  const { host, port } = splitHostPort(listen);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        log.warn({ err: e }, 'could not collect the metrics');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('could not collect the metrics\n');
      },
    );
  });
  // Scrapers keep connections open; a stop must not wait for them.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ listen: listen, port: bound }, 'metrics listener running (GET /metrics)');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
