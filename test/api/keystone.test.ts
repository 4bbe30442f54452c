// keystone auth strategy against a small stand-in Keystone v3 of the test's own (real HTTP on loopback).

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createApiApp, type ApiApp } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { KeystoneTokenValidator } from '../../src/drivers/identity/keystone.ts';

const PROJECT = '0123456789abcdef0123456789abcdef';
const OTHER_PROJECT = 'fedcba9876543210fedcba9876543210';

/** Stand-in Keystone: one service user (masakari/secret) and a table of user tokens. */
class FakeKeystone {
  server: Server;
  url = '';
  authCalls = 0;
  validations = 0;
  serviceTokens = new Set<string>();
  users = new Map<string, { user: string; project: string | null; roles: string[] }>([
    ['admin-token', { user: 'u-admin', project: PROJECT, roles: ['admin', 'member'] }],
    ['member-token', { user: 'u-member', project: PROJECT, roles: ['member'] }],
    ['reader-token', { user: 'u-reader', project: PROJECT, roles: ['reader'] }],
  ]);

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const expires = new Date(Date.now() + 3600_000).toISOString();
        if (req.method === 'POST' && req.url === '/v3/auth/tokens') {
          this.authCalls++;
          const pw = JSON.parse(body).auth.identity.password.user;
          if (pw.name !== 'masakari' || pw.password !== 'secret') return void res.writeHead(401).end('{}');
          const tok = `svc-${this.authCalls}`;
          this.serviceTokens.add(tok);
          res.writeHead(201, { 'Content-Type': 'application/json', 'X-Subject-Token': tok });
          return void res.end(JSON.stringify({ token: { expires_at: expires, user: { id: 'svc' } } }));
        }
        if (req.method === 'GET' && req.url === '/v3/auth/tokens') {
          this.validations++;
          if (!this.serviceTokens.has(String(req.headers['x-auth-token']))) return void res.writeHead(401).end('{}');
          const u = this.users.get(String(req.headers['x-subject-token']));
          if (!u) return void res.writeHead(404).end('{}');
          res.writeHead(200, { 'Content-Type': 'application/json' });
          return void res.end(
            JSON.stringify({
              token: { expires_at: expires, user: { id: u.user, name: u.user }, ...(u.project ? { project: { id: u.project, name: 'p' } } : {}), roles: u.roles.map((name) => ({ id: name, name })) },
            }),
          );
        }
        res.writeHead(404).end();
      });
    });
  }
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

function keystoneApp(ks: FakeKeystone, store: Store, overrides: Record<string, unknown> = {}): ApiApp {
  const config = parseConfig(
    {
      api: {
        auth_strategy: 'keystone',
        keystone: { auth_url: `${ks.url}/v3`, password: 'secret', timeout_seconds: 2, ...overrides },
        policy: { 'os_masakari_api:segments:index': 'rule:admin_api or role:reader' },
      },
    },
    'test',
  );
  return createApiApp({ store, config, log: silentLogger, hostCatalog: acceptAllHostCatalog, tokenValidator: new KeystoneTokenValidator(config.api.keystone, silentLogger) });
}

const get = (app: ApiApp, path: string, token?: string) => app.request(path, { headers: token ? { 'X-Auth-Token': token } : {} });

describe('keystone auth', () => {
  const ks = new FakeKeystone();
  let store: Store;
  let app: ApiApp;
  before(async () => {
    await ks.start();
    store = openSqliteStore({ path: ':memory:' });
    app = keystoneApp(ks, store);
  });
  after(async () => {
    await ks.stop();
    await store.close();
  });

  test('GET / needs no token; /v1 and resources answer keystonemiddleware 401 without a valid one', async () => {
    assert.equal((await get(app, '/')).status, 200);
    for (const [path, token] of [['/v1', undefined], ['/v1/segments', undefined], ['/v1/segments', 'bogus']] as const) {
      const r = await get(app, path, token);
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
      assert.deepEqual(await r.json(), { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    }
  });

  test('admin passes; validations are cached', async () => {
    const before = ks.validations;
    assert.equal((await get(app, '/v1/segments', 'admin-token')).status, 200);
    assert.equal((await get(app, '/v1/segments', 'admin-token')).status, 200);
    assert.equal(ks.validations - before, 1);
  });

  test('policy: non-admin gets 403 unless a configured rule lets the role in', async () => {
    const member = await get(app, '/v1/segments', 'member-token');
    assert.equal(member.status, 403);
    assert.deepEqual(await member.json(), { forbidden: { code: 403, message: "Policy doesn't allow os_masakari_api:segments:index to be performed." } });
    assert.equal((await get(app, '/v1/segments', 'reader-token')).status, 200);
    const create = await app.request('/v1/segments', {
      method: 'POST',
      headers: { 'X-Auth-Token': 'reader-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ segment: { name: 's', recovery_method: 'auto', service_type: 'C' } }),
    });
    assert.equal(create.status, 403);
  });

  test("/v1/{project_id}/... is allowed for the token's own project only", async () => {
    assert.equal((await get(app, `/v1/${PROJECT}/segments`, 'admin-token')).status, 200);
    const other = await get(app, `/v1/${OTHER_PROJECT}/segments`, 'admin-token');
    assert.equal(other.status, 400);
    assert.equal(
      ((await other.json()) as any).badRequest.message,
      `Malformed request URL: URL's project_id '${OTHER_PROJECT}' doesn't match Context's project_id '${PROJECT}'`,
    );
  });

  test('a revoked service token is replaced once; the cache holds at most token_cache_size entries', async () => {
    const small = keystoneApp(ks, store, { token_cache_size: 1 });
    assert.equal((await get(small, '/v1/segments', 'admin-token')).status, 200);
    const auths = ks.authCalls;
    ks.serviceTokens.clear();
    const v0 = ks.validations;
    assert.equal((await get(small, '/v1/segments', 'reader-token')).status, 200);
    assert.equal(ks.authCalls, auths + 1);
    assert.equal(ks.validations - v0, 2, 'one rejected, one retried');
    const v1 = ks.validations;
    await get(small, '/v1/segments', 'admin-token');
    await get(small, '/v1/segments', 'reader-token');
    assert.equal(ks.validations - v1, 2, 'size 1: each token pushed the other out');
  });

  test('Keystone unreachable: 503, not 401', async () => {
    const dead = new FakeKeystone();
    await dead.start();
    const deadApp = keystoneApp(dead, store);
    await dead.stop();
    const r = await get(deadApp, '/v1/segments', 'admin-token');
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as any).serviceUnavailable.message, 'The Keystone service is temporarily unavailable.');
  });
});
