// One simulated cloud shared by several controller PROCESSES: the test process owns the SimCloud (real clock) and
// serves its ComputeDriver over a tiny JSON-RPC HTTP endpoint on loopback; each controller process uses
// RpcComputeDriver, which forwards every call there. So "evacuated twice" is checked on one cloud, whichever
// controller (or which life of a controller) issued the call, and every evacuate call is recorded with its caller.
//
// Test infrastructure only: the sim cloud is the thing under control, the engine and the store are real.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimComputeDriver, type SimCloud } from '../../src/drivers/compute/sim/index.ts';
import { ComputeDriverError, type ComputeDriver } from '../../src/core/ports/compute.ts';

const OPS = [
  'hostExists',
  'listServersOnHost',
  'getServer',
  'stopServer',
  'startServer',
  'resetServerState',
  'lockServer',
  'unlockServer',
  'evacuateServer',
  'latestEvacuation',
  'getComputeService',
  'disableComputeService',
  'enableComputeService',
  'setComputeServiceForcedDown',
  'listAggregates',
  'addHostToAggregate',
  'hostCapacity',
] as const;
type Op = (typeof OPS)[number];

/** One evacuate call as the cloud saw it: who sent it, when, and whether Nova accepted it. */
export interface EvacuateCall {
  server: string;
  caller: string;
  atMs: number;
  accepted: boolean;
  error?: string;
}

export interface SimRpcServer {
  url: string;
  evacuateCalls: EvacuateCall[];
  /** Calls per op (all callers). */
  calls: Map<string, number>;
  close(): Promise<void>;
}

export async function serveSimCloud(cloud: SimCloud): Promise<SimRpcServer> {
  const driver = new SimComputeDriver(cloud);
  const evacuateCalls: EvacuateCall[] = [];
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      void (async () => {
        let status = 200;
        let out: unknown;
        const { op, args, caller } = JSON.parse(body) as { op: Op; args: unknown[]; caller: string };
        calls.set(op, (calls.get(op) ?? 0) + 1);
        try {
          if (!OPS.includes(op)) throw new ComputeDriverError('bad_request', `unknown op ${op}`);
          // The call runs to its end even if the caller died meanwhile (as Nova would carry out a POST it received).
          const fn = (driver[op] as (...a: unknown[]) => Promise<unknown>).bind(driver);
          const result = await fn(...args);
          if (op === 'evacuateServer') evacuateCalls.push({ server: String(args[0]), caller, atMs: Date.now(), accepted: true });
          out = { result: result === undefined ? null : result };
        } catch (e) {
          const code = e instanceof ComputeDriverError ? e.code : 'unknown';
          if (op === 'evacuateServer')
            evacuateCalls.push({ server: String(args[0]), caller, atMs: Date.now(), accepted: false, error: `${code}: ${(e as Error).message}` });
          out = { error: { code, message: (e as Error).message } };
          status = 200;
        }
        const text = JSON.stringify(out);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      })();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/rpc`,
    evacuateCalls,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** ComputeDriver of a controller process: every call goes to the shared sim cloud. */
export class RpcComputeDriver implements ComputeDriver {
  readonly name = 'sim-rpc';

  constructor(
    private readonly url: string,
    private readonly caller: string,
  ) {}

  private async call<T>(op: Op, ...args: unknown[]): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ op, args, caller: this.caller }) });
    } catch (e) {
      throw new ComputeDriverError('unavailable', `sim cloud unreachable: ${(e as Error).message}`);
    }
    const body = (await res.json()) as { result?: T; error?: { code: ComputeDriverError['code']; message: string } };
    if (body.error) throw new ComputeDriverError(body.error.code, body.error.message);
    return body.result as T;
  }

  hostExists = (h: string) => this.call<boolean>('hostExists', h);
  listServersOnHost = (h: string) => this.call<Awaited<ReturnType<ComputeDriver['listServersOnHost']>>>('listServersOnHost', h);
  getServer = (id: string) => this.call<Awaited<ReturnType<ComputeDriver['getServer']>>>('getServer', id);
  stopServer = (id: string) => this.call<void>('stopServer', id);
  startServer = (id: string) => this.call<void>('startServer', id);
  resetServerState = (id: string, s: 'active' | 'error') => this.call<void>('resetServerState', id, s);
  lockServer = (id: string) => this.call<void>('lockServer', id);
  unlockServer = (id: string) => this.call<void>('unlockServer', id);
  evacuateServer = (id: string, target?: string) => this.call<void>('evacuateServer', id, ...(target === undefined ? [] : [target]));
  latestEvacuation = async (id: string) => {
    const r = await this.call<{ status: 'in_progress' | 'done' | 'failed'; createdAt: string | null; destHost: string | null } | null>('latestEvacuation', id);
    return r && { ...r, createdAt: r.createdAt === null ? null : new Date(r.createdAt) };
  };
  getComputeService = (h: string, b?: string) =>
    this.call<Awaited<ReturnType<ComputeDriver['getComputeService']>>>('getComputeService', h, ...(b === undefined ? [] : [b]));
  disableComputeService = (h: string, r: string, b?: string) => this.call<void>('disableComputeService', h, r, ...(b === undefined ? [] : [b]));
  enableComputeService = (h: string, b?: string) => this.call<void>('enableComputeService', h, ...(b === undefined ? [] : [b]));
  setComputeServiceForcedDown = (h: string, f: boolean, b?: string) => this.call<void>('setComputeServiceForcedDown', h, f, ...(b === undefined ? [] : [b]));
  listAggregates = () => this.call<Awaited<ReturnType<ComputeDriver['listAggregates']>>>('listAggregates');
  addHostToAggregate = (a: string, h: string) => this.call<void>('addHostToAggregate', a, h);
  hostCapacity = (h: string) => this.call<Awaited<ReturnType<ComputeDriver['hostCapacity']>>>('hostCapacity', h);
}
