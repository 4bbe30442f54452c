// A stand-in Keystone v3 for tests: version discovery, password authentication (with a service catalog) and
// token validation. Real HTTP on loopback; counts calls so tests can check caching.

import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_PROJECT = '0123456789abcdef0123456789abcdef';

interface Grant {
  user: string;
  project: string | null;
  roles: string[];
}

export class FakeKeystone {
  readonly server: Server;
  url = '';
  authCalls = 0;
  validations = 0;
  /** Tokens the service user got (validation requires one of them). */
  readonly serviceTokens = new Set<string>();
  /** Issued and pre-set user tokens. */
  readonly tokens = new Map<string, Grant>([
    ['admin-token', { user: 'u-admin', project: FAKE_PROJECT, roles: ['admin', 'member'] }],
    ['member-token', { user: 'u-member', project: FAKE_PROJECT, roles: ['member'] }],
    ['reader-token', { user: 'u-reader', project: FAKE_PROJECT, roles: ['reader'] }],
  ]);
  /** name -> password and grant, for password authentication. */
  readonly users = new Map<string, { password: string; grant: Grant; service?: boolean }>([
    ['masakari', { password: 'secret', grant: { user: 'u-masakari', project: 'service-project', roles: ['service'] }, service: true }],
    ['admin', { password: 'adminpw', grant: { user: 'u-admin', project: FAKE_PROJECT, roles: ['admin', 'member'] } }],
  ]);
  /** Endpoint of service type instance-ha in the catalog ("%(project)s" is replaced). */
  haEndpoint = '';

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => this.handle(req.method ?? '', req.url ?? '', req.headers, body, res));
    });
  }

  private tokenBody(g: Grant) {
    const expires = new Date(Date.now() + 3600_000).toISOString();
    return {
      token: {
        methods: ['password'],
        expires_at: expires,
        issued_at: new Date().toISOString(),
        user: { id: g.user, name: g.user, domain: { id: 'default', name: 'Default' } },
        ...(g.project ? { project: { id: g.project, name: 'p', domain: { id: 'default', name: 'Default' } } } : {}),
        roles: g.roles.map((name) => ({ id: name, name })),
        catalog: this.haEndpoint
          ? [
              {
                type: 'instance-ha',
                name: 'masakari',
                id: 'svc-ha',
                endpoints: ['public', 'internal', 'admin'].map((iface) => ({
                  id: `ep-${iface}`,
                  interface: iface,
                  region: 'RegionOne',
                  region_id: 'RegionOne',
                  url: this.haEndpoint.replace('%(project)s', g.project ?? ''),
                })),
              },
            ]
          : [],
      },
    };
  }

  private handle(method: string, url: string, headers: Record<string, string | string[] | undefined>, body: string, res: import('node:http').ServerResponse) {
    const send = (status: number, obj: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...extra });
      res.end(JSON.stringify(obj));
    };
    const path = url.split('?')[0]!.replace(/\/+$/, '');
    if (method === 'GET' && path === '/v3') {
      return send(200, {
        version: {
          id: 'v3.14',
          status: 'stable',
          updated: '2020-04-07T00:00:00Z',
          links: [{ rel: 'self', href: `${this.url}/v3/` }],
          'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
        },
      });
    }
    if (method === 'POST' && path === '/v3/auth/tokens') {
      this.authCalls++;
      let u: { name?: string; password?: string } | undefined;
      try {
        u = JSON.parse(body).auth.identity.password.user;
      } catch {
        return send(400, { error: { code: 400, title: 'Bad Request', message: 'bad body' } });
      }
      const known = this.users.get(u?.name ?? '');
      if (!known || known.password !== u?.password) return send(401, { error: { code: 401, title: 'Unauthorized', message: 'no' } });
      const tok = randomUUID().replace(/-/g, '');
      if (known.service) this.serviceTokens.add(tok);
      this.tokens.set(tok, known.grant);
      return send(201, this.tokenBody(known.grant), { 'X-Subject-Token': tok });
    }
    if (method === 'GET' && path === '/v3/auth/tokens') {
      this.validations++;
      if (!this.serviceTokens.has(String(headers['x-auth-token']))) return send(401, { error: { code: 401, title: 'Unauthorized', message: 'no' } });
      const g = this.tokens.get(String(headers['x-subject-token']));
      if (!g) return send(404, { error: { code: 404, title: 'Not Found', message: 'no token' } });
      return send(200, this.tokenBody(g));
    }
    send(404, { error: { code: 404, title: 'Not Found', message: url } });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}
