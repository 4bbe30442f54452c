// A controller of the test's own: a real HTTP server on a free loopback port whose answers the test scripts.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: unknown;
}

export type Answer = { status: number; body?: unknown } | 'hang';

export class FakeController {
  /** Notification requests (what the test scripts answers for). */
  readonly received: Received[] = [];
  /** The agent's heartbeats (POST .../x-masakari/heartbeats), kept apart and always answered 204. */
  readonly heartbeats: Received[] = [];
  private server: Server | null = null;
  private readonly hanging = new Set<ServerResponse>();
  port = 0;

  constructor(public answer: (req: Received, index: number) => Answer) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async listen(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {
          json = null;
        }
        const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
        if (r.url.endsWith('/x-masakari/heartbeats')) {
          this.heartbeats.push(r);
          res.writeHead(204).end();
          return;
        }
        this.received.push(r);
        const a = this.answer(r, this.received.length - 1);
        if (a === 'hang') {
          this.hanging.add(res);
          return;
        }
        res.writeHead(a.status, { 'Content-Type': 'application/json' });
        res.end(a.body === undefined ? '' : JSON.stringify(a.body));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A loopback port that nothing listens on (for "controller down"). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Polls `cond` every 10 ms; fails with `what` after `timeoutMs` (a bound, not a timing assertion). */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const notificationOf = (r: Received) => (r.json as { notification: Record<string, unknown> }).notification;
