// A small Redfish BMC for tests (no Redfish emulator is packaged for Debian): HTTPS with a self-signed certificate
// made by openssl at test time, one or more ComputerSystems with PowerState and the #ComputerSystem.Reset action,
// HTTP basic authentication or a session (POST /redfish/v1/SessionService/Sessions -> X-Auth-Token; DELETE to log
// out), 401 on wrong credentials. As the Redfish spec requires, the service root /redfish/v1 is readable without
// credentials; everything else needs them. `basicAuth: false` refuses basic auth, as BMCs can be set to.
// Knobs for failure tests: `stuck` (Reset accepted, nothing changes), `hang` (requests are never answered),
// `transitionPolls` (after a Reset, that many GETs of the system show PoweringOff/PoweringOn first).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand } from '../../support/components.ts';

export const haveOpenssl = (): boolean => haveCommand('openssl');

export interface Cert {
  dir: string;
  keyFile: string;
  certFile: string;
  key: string;
  cert: string;
  remove(): void;
}

/** A fresh self-signed certificate for 127.0.0.1 / localhost, valid one day. */
export function makeSelfSignedCert(): Promise<Cert> {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const args = [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ];
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, _out, stderr) => {
      if (err) return reject(new Error(`openssl req failed: ${stderr || err.message}`));
      resolve({
        dir,
        keyFile,
        certFile,
        key: readFileSync(keyFile, 'utf8'),
        cert: readFileSync(certFile, 'utf8'),
        remove: () => rmSync(dir, { recursive: true, force: true }),
      });
    });
  });
}

type RfPower = 'On' | 'Off';

export interface RedfishBmcOptions {
  cert: Cert;
  user?: string;
  password?: string;
  /** System ids; default ["1"]. */
  systems?: string[];
  /** false: only session tokens are accepted. Default true. */
  basicAuth?: boolean;
}

export interface RedfishBmc {
  readonly url: string;
  readonly port: number;
  /** Power per system id. */
  readonly power: Map<string, RfPower>;
  stuck: boolean;
  hang: boolean;
  transitionPolls: number;
  /** Every request: method, path, whether its credentials were right, ResetType for POSTs. */
  readonly log: { method: string; path: string; auth: 'ok' | 'bad' | 'none'; resetType?: string }[];
  /** Open sessions: token -> session id. */
  readonly sessions: Map<string, string>;
  /** Sessions created so far. */
  sessionsCreated: number;
  resets(): string[];
  close(): Promise<void>;
}

export async function startRedfishBmc(o: RedfishBmcOptions): Promise<RedfishBmc> {
  const user = o.user ?? 'admin';
  const password = o.password ?? 'password';
  const ids = o.systems ?? ['1'];
  const sockets = new Set<Socket>();
  const pending = new Map<string, { polls: number; shown: string }>();
  const expected = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const basicAuth = o.basicAuth ?? true;

  const state = {
    power: new Map<string, RfPower>(ids.map((id) => [id, 'On'])),
    stuck: false,
    hang: false,
    transitionPolls: 0,
    log: [] as RedfishBmc['log'],
    sessions: new Map<string, string>(),
    sessionsCreated: 0,
  };

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) =>
    send(res, status, { error: { code: 'Base.1.0.GeneralError', message, '@Message.ExtendedInfo': [{ Message: message }] } }, headers);

  const system = (id: string) => {
    const p = pending.get(id);
    let shown: string = state.power.get(id)!;
    if (p && p.polls > 0) {
      p.polls--;
      shown = p.shown;
    }
    return {
      '@odata.id': `/redfish/v1/Systems/${id}`,
      Id: id,
      Name: `System ${id}`,
      PowerState: shown,
      Actions: {
        '#ComputerSystem.Reset': {
          target: `/redfish/v1/Systems/${id}/Actions/ComputerSystem.Reset`,
          'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'ForceRestart', 'GracefulShutdown'],
        },
      },
    };
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    const token = req.headers['x-auth-token'];
    const auth =
      typeof token === 'string'
        ? state.sessions.has(token)
          ? 'ok'
          : 'bad'
        : req.headers.authorization === undefined
          ? 'none'
          : req.headers.authorization === expected && basicAuth
            ? 'ok'
            : 'bad';
    const entry: RedfishBmc['log'][number] = { method: req.method ?? '', path, auth };
    state.log.push(entry);
    if (state.hang) return; // never answered; the socket is destroyed at close()
    if (req.method === 'GET' && path === '/redfish/v1') {
      return send(res, 200, { '@odata.id': '/redfish/v1', Id: 'RootService', RedfishVersion: '1.6.0', Systems: { '@odata.id': '/redfish/v1/Systems' } });
    }
    if (req.method === 'POST' && path === '/redfish/v1/SessionService/Sessions') {
      let creds: { UserName?: unknown; Password?: unknown } = {};
      try {
        creds = JSON.parse(body) as typeof creds;
      } catch {
        return error(res, 400, 'body is not JSON');
      }
      if (creds.UserName !== user || creds.Password !== password) return error(res, 401, 'invalid credentials');
      const id = String(++state.sessionsCreated);
      const tok = randomBytes(16).toString('hex');
      state.sessions.set(tok, id);
      return send(
        res,
        201,
        { '@odata.id': `/redfish/v1/SessionService/Sessions/${id}`, Id: id, UserName: user },
        { 'x-auth-token': tok, location: `/redfish/v1/SessionService/Sessions/${id}` },
      );
    }
    const sm = /^\/redfish\/v1\/SessionService\/Sessions\/([^/]+)$/.exec(path);
    if (req.method === 'DELETE' && sm && auth === 'ok') {
      for (const [tok, id] of state.sessions) if (id === sm[1]) state.sessions.delete(tok);
      return send(res, 204);
    }
    if (auth !== 'ok') return error(res, 401, 'Authentication required or credentials invalid', { 'www-authenticate': 'Basic realm="redfish"' });
    if (req.method === 'GET' && path === '/redfish/v1/Systems') {
      return send(res, 200, {
        '@odata.id': '/redfish/v1/Systems',
        'Members@odata.count': ids.length,
        Members: ids.map((id) => ({ '@odata.id': `/redfish/v1/Systems/${id}` })),
      });
    }
    let m = /^\/redfish\/v1\/Systems\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m && state.power.has(m[1]!)) return send(res, 200, system(m[1]!));
    m = /^\/redfish\/v1\/Systems\/([^/]+)\/Actions\/ComputerSystem\.Reset$/.exec(path);
    if (req.method === 'POST' && m && state.power.has(m[1]!)) {
      const id = m[1]!;
      let type: unknown;
      try {
        type = (JSON.parse(body) as { ResetType?: unknown }).ResetType;
      } catch {
        return error(res, 400, 'body is not JSON');
      }
      entry.resetType = String(type);
      const next: RfPower | null = type === 'ForceOff' || type === 'GracefulShutdown' ? 'Off' : type === 'On' ? 'On' : type === 'ForceRestart' ? 'On' : null;
      if (!next) return error(res, 400, `unsupported ResetType ${String(type)}`);
      if (!state.stuck) {
        if (state.transitionPolls > 0) pending.set(id, { polls: state.transitionPolls, shown: next === 'Off' ? 'PoweringOff' : 'PoweringOn' });
        state.power.set(id, next);
      }
      return send(res, 204);
    }
    return error(res, 404, `no resource ${path}`);
  };

  const server: Server = createServer({ key: o.cert.key, cert: o.cert.cert }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handle(req, res, body));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  const bmc: RedfishBmc = Object.assign(state, {
    url: `https://127.0.0.1:${port}`,
    port,
    resets: () => state.log.filter((l) => l.resetType !== undefined).map((l) => l.resetType!),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  return bmc;
}
