// The OpenStack client's pieces on their own, against small real HTTP servers on loopback: what each interceptor
// does with the answers a cloud gives (5xx, 401, hangs, refused connections), the Keystone request bodies, and
// catalog lookup. The same client against the real Keystone + Nova: nova-lab.test.ts.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { openstackSection } from '../../../src/core/config/sections/openstack.ts';
import { realEnv, type Env } from '../../../src/core/env.ts';
import { VirtualEnv } from '../../../src/core/env-virtual.ts';
import { findEndpoint, type Catalog } from '../../../src/drivers/openstack/catalog.ts';
import { createOpenStackClient } from '../../../src/drivers/openstack/client.ts';
import { faultMessage, OpenStackError } from '../../../src/drivers/openstack/errors.ts';
import { compose, fetchHandler, type Handler, type OsRequest } from '../../../src/drivers/openstack/http.ts';
import { authInterceptor } from '../../../src/drivers/openstack/interceptors/auth.ts';
import { MicroversionNegotiator, versionRoot } from '../../../src/drivers/openstack/interceptors/microversion.ts';
import { backoffDelay, retryInterceptor } from '../../../src/drivers/http/interceptors/retry.ts';
import { timeoutInterceptor } from '../../../src/drivers/http/interceptors/timeout.ts';
import { authRequestBody, KeystoneSession, v3Url } from '../../../src/drivers/openstack/keystone.ts';
import { errorFromResponse, toEvacuationRecord, toServerInfo } from '../../../src/drivers/compute/nova/mapping.ts';

type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function serve(route: Route): Promise<{ url: string; server: Server; hits: { method: string; url: string; headers: IncomingMessage['headers'] }[] }> {
  const hits: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    for await (const c of req) body += c;
    hits.push({ method: req.method!, url: req.url!, headers: req.headers });
    route(req, res, body);
  };
  // node:http does not await its handler: a failure ends the exchange (the client under test sees a reset)
  // instead of becoming an unhandled rejection.
  const server = createServer((req, res) => void handle(req, res).catch((e: unknown) => res.destroy(e instanceof Error ? e : new Error(String(e)))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server, hits };
}
const close = (s: Server) =>
  new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });
const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));

/** Real clock, but sleeps are recorded and skipped: backoff is checked by value, not by waiting. */
function recordingEnv(): Env & { slept: number[] } {
  const slept: number[] = [];
  return {
    ...realEnv,
    slept,
    random: () => 0.5,
    sleep: async (ms: number) => {
      slept.push(ms);
    },
  };
}

describe('retry interceptor', () => {
  test('retries 503 with growing backoff until success, honouring Retry-After', async () => {
    let n = 0;
    const srv = await serve((_q, res) => (++n < 3 ? json(res, 503, {}, n === 2 ? { 'Retry-After': '0.2' } : {}) : json(res, 200, { ok: true })));
    try {
      const env = recordingEnv();
      const h = compose(fetchHandler, retryInterceptor({ retries: 5, baseDelayMs: 100, maxDelayMs: 1000, env }));
      const res = await h({ method: 'POST', url: `${srv.url}/x`, body: {} });
      assert.equal(res.status, 200);
      assert.equal(srv.hits.length, 3);
      assert.deepEqual(env.slept, [75, 200], 'backoff 100 ms with jitter 0.5, then Retry-After 0.2 s');
    } finally {
      await close(srv.server);
    }
  });

  test('gives up after `retries` extra attempts and returns the last answer', async () => {
    const srv = await serve((_q, res) => json(res, 502, { badGateway: { message: 'down' } }));
    try {
      const env = recordingEnv();
      const res = await compose(fetchHandler, retryInterceptor({ retries: 2, baseDelayMs: 10, maxDelayMs: 1000, env }))({ method: 'GET', url: srv.url });
      assert.equal(res.status, 502);
      assert.equal(srv.hits.length, 3);
    } finally {
      await close(srv.server);
    }
  });

  test("jitter comes from the Env's random() called as a method (the simulator's VirtualEnv keeps its seed in `this`)", async () => {
    const srv = await serve((_q, res) => json(res, srv.hits.length < 2 ? 503 : 200, {}));
    try {
      const env = new VirtualEnv();
      const slept: number[] = [];
      env.sleep = async (ms: number) => {
        slept.push(ms);
      };
      const res = await compose(fetchHandler, retryInterceptor({ retries: 2, baseDelayMs: 100, maxDelayMs: 1000, env }))({ method: 'GET', url: srv.url });
      assert.equal(res.status, 200);
      assert.equal(slept.length, 1);
      assert.ok(slept[0]! >= 50 && slept[0]! <= 100, `a jittered first backoff, got ${slept[0]}`);
    } finally {
      await close(srv.server);
    }
  });

  test('500 is retried for GET and PUT, not for POST (an action may have run)', async () => {
    const srv = await serve((_q, res) => json(res, 500, {}));
    try {
      const h = compose(fetchHandler, retryInterceptor({ retries: 2, baseDelayMs: 1, maxDelayMs: 1, env: recordingEnv() }));
      await h({ method: 'POST', url: srv.url, body: {} });
      assert.equal(srv.hits.length, 1);
      await h({ method: 'PUT', url: srv.url, body: {} });
      assert.equal(srv.hits.length, 4);
    } finally {
      await close(srv.server);
    }
  });

  test('4xx answers are returned at once', async () => {
    const srv = await serve((_q, res) => json(res, 409, { conflictingRequest: { message: 'busy' } }));
    try {
      const res = await compose(
        fetchHandler,
        retryInterceptor({ retries: 3, baseDelayMs: 1, maxDelayMs: 1, env: recordingEnv() }),
      )({ method: 'GET', url: srv.url });
      assert.equal(res.status, 409);
      assert.equal(srv.hits.length, 1);
    } finally {
      await close(srv.server);
    }
  });

  test('connection refused: retried even for POST (never sent); the final error says connection', async () => {
    const srv = await serve(() => {});
    const url = srv.url;
    await close(srv.server);
    const env = recordingEnv();
    const h = compose(fetchHandler, retryInterceptor({ retries: 2, baseDelayMs: 10, maxDelayMs: 100, env }));
    await assert.rejects(h({ method: 'POST', url, body: {} }), (e: unknown) => {
      assert.ok(e instanceof OpenStackError);
      assert.equal(e.code, 'connection');
      assert.equal(e.sent, false);
      assert.equal(e.exhausted, true);
      return true;
    });
    assert.equal(env.slept.length, 2);
  });

  test('backoff doubles and is capped', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 10].map((n) => backoffDelay(n, 100, 500, () => 1)),
      [100, 200, 400, 500, 500],
    );
    assert.deepEqual(
      [0, 1].map((n) => backoffDelay(n, 100, 500, () => 0)),
      [50, 100],
    );
  });
});

describe('timeout interceptor', () => {
  test('a server that does not answer gives a timeout error; GET is retried, POST is not', async () => {
    const srv = await serve(() => {
      /* never answers */
    });
    try {
      // Attempts are counted at the dispatcher: whether a timed-out request reached the server is up to the OS.
      let attempts = 0;
      const counting = (req: OsRequest) => (attempts++, fetchHandler(req));
      const h = compose(counting, retryInterceptor({ retries: 1, baseDelayMs: 1, maxDelayMs: 1, env: recordingEnv() }), timeoutInterceptor(100));
      await assert.rejects(h({ method: 'GET', url: srv.url }), (e: unknown) => e instanceof OpenStackError && e.code === 'timeout');
      assert.equal(attempts, 2);
      await assert.rejects(h({ method: 'POST', url: srv.url, body: {} }), (e: unknown) => e instanceof OpenStackError && e.code === 'timeout');
      assert.equal(attempts, 3);
    } finally {
      await close(srv.server);
    }
  });

  test('a per-request timeout overrides the default; an outer abort is an abort', async () => {
    const srv = await serve(() => {});
    try {
      const h = compose(fetchHandler, timeoutInterceptor(60_000));
      await assert.rejects(h({ method: 'GET', url: srv.url, timeoutMs: 50 }), (e: unknown) => e instanceof OpenStackError && e.code === 'timeout');
      const ctl = new AbortController();
      const p = h({ method: 'GET', url: srv.url, signal: ctl.signal });
      ctl.abort();
      await assert.rejects(p, (e: unknown) => e instanceof OpenStackError && e.code === 'aborted');
    } finally {
      await close(srv.server);
    }
  });
});

describe('auth interceptor', () => {
  test('on 401 the token is dropped and the request sent once more with a new one', async () => {
    const valid = new Set(['t2']);
    const srv = await serve((q, res) => (valid.has(String(q.headers['x-auth-token'])) ? json(res, 200, {}) : json(res, 401, {})));
    try {
      let n = 0;
      let current: string | null = null;
      const invalidated: string[] = [];
      const session = {
        getToken: async () => {
          current ??= `t${++n}`;
          return { id: current, expiresAtMs: Date.now() + 3600_000, catalog: [], userId: null, projectId: null };
        },
        invalidate: (id: string) => {
          invalidated.push(id);
          if (current === id) current = null;
        },
      };
      const h = compose(fetchHandler, authInterceptor(session));
      assert.equal((await h({ method: 'GET', url: srv.url })).status, 200);
      assert.deepEqual(
        srv.hits.map((x) => x.headers['x-auth-token']),
        ['t1', 't2'],
      );
      assert.deepEqual(invalidated, ['t1']);
      valid.clear();
      assert.equal((await h({ method: 'GET', url: srv.url })).status, 401, 'a second 401 goes to the caller');
      assert.equal(srv.hits.length, 4);
      assert.equal((await h({ method: 'GET', url: srv.url, auth: false })).status, 401);
      assert.equal(srv.hits.at(-1)!.headers['x-auth-token'], undefined);
    } finally {
      await close(srv.server);
    }
  });
});

describe('microversion negotiation', () => {
  const versionDoc = (max: string) => ({ version: { id: 'v2.1', status: 'CURRENT', version: max, min_version: '2.1' } });

  async function negotiate(serverMax: string, ours: { min: string; max: string }) {
    const srv = await serve((q, res) => (q.url === '/v2.1' ? json(res, 200, versionDoc(serverMax)) : json(res, 200, {})));
    const mv = new MicroversionNegotiator({ service: 'compute', headerName: 'compute', legacyHeader: 'X-OpenStack-Nova-API-Version', ...ours });
    const h = compose(fetchHandler, mv.interceptor);
    const req: OsRequest = { method: 'GET', service: 'compute', endpoint: `${srv.url}/v2.1`, url: `${srv.url}/v2.1/servers` };
    try {
      await h(req);
      await h(req);
      return { version: mv.version(), hits: srv.hits };
    } finally {
      await close(srv.server);
    }
  }

  test('chooses the lower of both maxima, asks once, and sends both headers', async () => {
    const a = await negotiate('2.95', { min: '2.53', max: '2.93' });
    assert.equal(a.version, '2.93');
    assert.deepEqual(
      a.hits.map((h) => h.url),
      ['/v2.1', '/v2.1/servers', '/v2.1/servers'],
    );
    assert.equal(a.hits[1]!.headers['openstack-api-version'], 'compute 2.93');
    assert.equal(a.hits[1]!.headers['x-openstack-nova-api-version'], '2.93');
    assert.equal((await negotiate('2.60', { min: '2.53', max: '2.93' })).version, '2.60');
  });

  test('a request may cap its own microversion, never below the minimum; other requests keep the negotiated one', async () => {
    const srv = await serve((q, res) => (q.url === '/v2.1' ? json(res, 200, versionDoc('2.93')) : json(res, 200, {})));
    const mv = new MicroversionNegotiator({ service: 'compute', headerName: 'compute', min: '2.53', max: '2.93' });
    const h = compose(fetchHandler, mv.interceptor);
    const req: OsRequest = { method: 'GET', service: 'compute', endpoint: `${srv.url}/v2.1`, url: `${srv.url}/v2.1/os-hypervisors/detail` };
    try {
      await h({ ...req, maxMicroversion: '2.87' });
      await h({ ...req, maxMicroversion: '2.40' });
      await h({ ...req, maxMicroversion: '2.95' });
      await h(req);
      assert.deepEqual(
        srv.hits.slice(1).map((x) => x.headers['openstack-api-version']),
        ['compute 2.87', 'compute 2.53', 'compute 2.93', 'compute 2.93'],
      );
    } finally {
      await close(srv.server);
    }
  });

  test('a Nova older than the minimum is refused with a clear error', async () => {
    await assert.rejects(negotiate('2.38', { min: '2.53', max: '2.93' }), (e: unknown) => {
      assert.ok(e instanceof OpenStackError);
      assert.equal(e.code, 'microversion');
      assert.match(e.message, /up to 2\.38; Masakari needs 2\.53/);
      return true;
    });
  });

  test('a configured maximum below the minimum is refused up front', () => {
    assert.throws(() => new MicroversionNegotiator({ service: 'compute', headerName: 'compute', min: '2.53', max: '2.40' }), /below the minimum/);
    assert.throws(() => new MicroversionNegotiator({ service: 'compute', headerName: 'compute', min: '2.53', max: 'latest' }), /not a microversion/);
  });

  test('the version root of an endpoint with a project id', () => {
    assert.equal(versionRoot('http://nova:8774/v2.1/0123abcd'), 'http://nova:8774/v2.1');
    assert.equal(versionRoot('https://cloud/compute/v2.1/'), 'https://cloud/compute/v2.1');
  });
});

describe('Keystone request bodies', () => {
  test('password with names, and with ids', () => {
    assert.deepEqual(
      authRequestBody({
        type: 'password',
        username: 'masakari',
        password: 'pw',
        userDomainName: 'Default',
        projectName: 'service',
        projectDomainName: 'Default',
      }),
      {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'masakari', domain: { name: 'Default' }, password: 'pw' } } },
          scope: { project: { name: 'service', domain: { name: 'Default' } } },
        },
      },
    );
    assert.deepEqual(authRequestBody({ type: 'password', userId: 'u1', password: 'pw', projectId: 'p1', projectDomainId: 'd' }), {
      auth: { identity: { methods: ['password'], password: { user: { id: 'u1', password: 'pw' } } }, scope: { project: { id: 'p1' } } },
    });
  });

  test('application credential by id, and by name with its user; never a scope', () => {
    assert.deepEqual(authRequestBody({ type: 'v3applicationcredential', id: 'ac', secret: 's' }), {
      auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac', secret: 's' } } },
    });
    assert.deepEqual(authRequestBody({ type: 'v3applicationcredential', name: 'n', secret: 's', username: 'u', userDomainId: 'default' }), {
      auth: {
        identity: { methods: ['application_credential'], application_credential: { name: 'n', secret: 's', user: { name: 'u', domain: { id: 'default' } } } },
      },
    });
  });

  test('the auth URL gets /v3 when it lacks it', () => {
    assert.equal(v3Url('http://ks:5000'), 'http://ks:5000/v3');
    assert.equal(v3Url('http://ks:5000/v3/'), 'http://ks:5000/v3');
    assert.equal(v3Url('http://ks/identity/v3'), 'http://ks/identity/v3');
  });
});

describe('catalog lookup', () => {
  const catalog: Catalog = [
    { type: 'identity', endpoints: [{ interface: 'public', region_id: 'R1', url: 'http://ks/v3' }] },
    {
      type: 'compute',
      name: 'nova',
      endpoints: [
        { interface: 'public', region_id: 'R1', url: 'http://nova-r1-public/v2.1/' },
        { interface: 'internal', region_id: 'R1', url: 'http://nova-r1-internal/v2.1' },
        { interface: 'public', region_id: 'R2', url: 'http://nova-r2-public/v2.1' },
      ],
    },
  ];

  test('by interface and region', () => {
    assert.equal(findEndpoint(catalog, 'compute', { interface: 'public', region: 'R1' }), 'http://nova-r1-public/v2.1');
    assert.equal(findEndpoint(catalog, 'compute', { interface: 'internal', region: 'R1' }), 'http://nova-r1-internal/v2.1');
    assert.equal(findEndpoint(catalog, 'compute', { interface: 'internal' }), 'http://nova-r1-internal/v2.1');
  });

  test('ambiguous or missing endpoints are errors that say what the catalog has', () => {
    assert.throws(() => findEndpoint(catalog, 'compute', { interface: 'public' }), /several regions \(R1, R2\).*region_name/);
    assert.throws(
      () => findEndpoint(catalog, 'compute', { interface: 'admin', region: 'R1' }),
      /no admin "compute" endpoint in region R1 \(the catalog has: public@R1, internal@R1, public@R2\)/,
    );
    assert.throws(() => findEndpoint(catalog, 'placement', { interface: 'public' }), /no "placement" service \(it has: compute, identity\)/);
  });
});

describe('openstack config section', () => {
  test('defaults: not configured, nothing required', () => {
    const c = openstackSection.parse({});
    assert.equal(c.auth_url, null);
    assert.equal(c.nova.max_microversion, '2.93');
  });

  test('password auth needs a password, a user and a project; errors name the key', () => {
    const r = openstackSection.safeParse({ auth_url: 'http://ks:5000/v3' });
    assert.equal(r.success, false);
    const paths = r.error.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['password', 'project_name', 'username']);
  });

  test('application credentials: id + secret, or name + user + secret', () => {
    assert.ok(
      openstackSection.safeParse({
        auth_url: 'http://ks/v3',
        auth_type: 'v3applicationcredential',
        application_credential_id: 'a',
        application_credential_secret: 's',
      }).success,
    );
    const r = openstackSection.safeParse({
      auth_url: 'http://ks/v3',
      auth_type: 'v3applicationcredential',
      application_credential_name: 'a',
      application_credential_secret: 's',
    });
    assert.deepEqual(
      r.error?.issues.map((i) => i.path.join('.')),
      ['username'],
    );
  });

  test('a maximum microversion below 2.53 or a malformed one is rejected', () => {
    const base = { auth_url: 'http://ks/v3', username: 'u', password: 'p', project_name: 'p' };
    assert.match(JSON.stringify(openstackSection.safeParse({ ...base, nova: { max_microversion: '2.40' } }).error?.issues), /2\.53 or newer/);
    assert.match(JSON.stringify(openstackSection.safeParse({ ...base, nova: { max_microversion: 'latest' } }).error?.issues), /2\.NN/);
  });

  test('createOpenStackClient refuses a config without auth_url', () => {
    assert.throws(() => createOpenStackClient(openstackSection.parse({})), /auth_url is not set/);
  });
});

describe('Nova answers -> driver errors and server info', () => {
  const res = (status: number, body: unknown) => ({ status, body, headers: new Headers(), requestId: 'req-1' });

  test('status codes map to stable codes; Nova\'s "still in use" 400 is a conflict', () => {
    assert.equal(errorFromResponse('x', res(404, { itemNotFound: { message: 'gone' } })).code, 'not_found');
    assert.equal(errorFromResponse('x', res(409, { conflictingRequest: { message: 'busy' } })).code, 'conflict');
    assert.equal(errorFromResponse('x', res(400, { badRequest: { message: 'Compute service of h1 is still in use.' } })).code, 'conflict');
    assert.equal(errorFromResponse('x', res(400, { badRequest: { message: 'Invalid state' } })).code, 'bad_request');
    assert.equal(errorFromResponse('x', res(503, null)).code, 'unavailable');
    assert.equal(errorFromResponse('x', res(403, { forbidden: { message: 'no' } })).code, 'unknown');
    assert.match(
      errorFromResponse('evacuate s1', res(409, { conflictingRequest: { message: 'busy' } })).message,
      /^evacuate s1: busy \(HTTP 409, request req-1\)$/,
    );
  });

  test('fault messages of Nova, Keystone and Placement bodies', () => {
    assert.equal(faultMessage({ itemNotFound: { code: 404, message: 'Instance x could not be found.' } }), 'Instance x could not be found.');
    assert.equal(
      faultMessage({ error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } }),
      'The request you have made requires authentication.',
    );
    assert.equal(faultMessage({ errors: [{ status: 409, detail: 'conflict detail' }] }), 'conflict detail');
    assert.equal(faultMessage(null), null);
  });

  test('a server without admin fields is refused with a hint; a full one is mapped', () => {
    assert.throws(() => toServerInfo({ id: 's1', name: 'a', status: 'ACTIVE' }), /admin role/);
    assert.deepEqual(
      toServerInfo({
        id: 's1',
        name: 'vm',
        metadata: { HA_Enabled: 'True' },
        locked: true,
        'OS-EXT-STS:vm_state': 'stopped',
        'OS-EXT-STS:task_state': null,
        'OS-EXT-STS:power_state': 4,
        'OS-EXT-SRV-ATTR:host': 'h1',
      }),
      { id: 's1', name: 'vm', host: 'h1', vmState: 'stopped', taskState: null, powerState: 4, metadata: { HA_Enabled: 'True' }, locked: true },
    );
  });
});

describe('Keystone session timing (a stand-in Keystone on loopback; the real one: nova-lab.test.ts)', () => {
  // Token lifetimes are controlled by the stand-in and the session's clock, which the real Keystone cannot offer.
  let n = 0;
  let status = 201;
  let lifetimeMs = 3600_000;
  let srv: Awaited<ReturnType<typeof serve>>;
  let clockMs = Date.UTC(2030, 0, 1);
  const env: Env = { ...realEnv, nowMs: () => clockMs, now: () => new Date(clockMs) };
  const session = () =>
    new KeystoneSession({
      authUrl: srv.url,
      auth: { type: 'password', username: 'u', password: 'p', projectName: 'p' },
      http: fetchHandler,
      env,
      refreshMarginMs: 120_000,
    });

  before(async () => {
    srv = await serve((_q, res) => {
      if (status !== 201) return json(res, status, { error: { message: 'nope' } });
      n++;
      json(
        res,
        201,
        {
          token: {
            issued_at: new Date(clockMs).toISOString(),
            expires_at: new Date(clockMs + lifetimeMs).toISOString(),
            catalog: [],
            user: { id: 'u1' },
            project: { id: 'p1' },
          },
        },
        { 'X-Subject-Token': `tok-${n}` },
      );
    });
  });
  after(() => close(srv.server));

  test('one request for concurrent callers; reused until the margin; renewed inside it', async () => {
    status = 201;
    const s = session();
    const issued = n;
    const [a, b] = await Promise.all([s.getToken(), s.getToken()]);
    assert.equal(a.id, b.id);
    assert.equal(n, issued + 1, 'one POST /v3/auth/tokens for both callers');
    const before = n;
    clockMs += 3600_000 - 121_000;
    assert.equal((await s.getToken()).id, a.id);
    assert.equal(n, before);
    clockMs += 2_000;
    assert.notEqual((await s.getToken()).id, a.id);
    assert.equal(n, before + 1);
  });

  test('a lifetime shorter than the margin: renewed half-way through, not at every call', async () => {
    status = 201;
    lifetimeMs = 60_000; // Keystone's [token] expiration = 60, the margin is 120 s
    try {
      const s = session();
      const first = n;
      const t = await s.getToken();
      clockMs += 29_000;
      assert.equal((await s.getToken()).id, t.id, 'reused during the first half of its life');
      assert.equal((await s.getToken()).id, t.id);
      assert.equal(n, first + 1, 'one token request so far');
      clockMs += 2_000;
      const t2 = await s.getToken();
      assert.notEqual(t2.id, t.id, 'renewed after half its life');
      assert.equal(n, first + 2);
    } finally {
      lifetimeMs = 3600_000;
    }
  });

  test('Keystone down while renewing early: the current token is used until it expires', async () => {
    status = 201;
    const s = session();
    const t = await s.getToken();
    status = 503;
    clockMs += 3600_000 - 60_000;
    assert.equal((await s.getToken()).id, t.id, 'still valid for 60 s');
    clockMs += 60_000;
    await assert.rejects(s.getToken(), (e: unknown) => e instanceof OpenStackError && e.code === 'http' && e.status === 503);
  });

  test('refused credentials are an auth error; invalidate() forces a new token', async () => {
    status = 401;
    await assert.rejects(session().getToken(), (e: unknown) => e instanceof OpenStackError && e.code === 'auth');
    status = 201;
    const s = session();
    const t = await s.getToken();
    s.invalidate('some-other-token');
    assert.equal((await s.getToken()).id, t.id);
    s.invalidate(t.id);
    assert.notEqual((await s.getToken()).id, t.id);
  });

  test("a caller's abort ends its own wait; the shared token request is aborted only once no caller waits for it", async () => {
    const sent: AbortSignal[] = [];
    const hanging: Handler = (req) =>
      new Promise((_resolve, reject) => {
        sent.push(req.signal!);
        req.signal!.addEventListener('abort', () => reject(new OpenStackError('aborted', 'aborted')));
      });
    const s = new KeystoneSession({
      authUrl: 'http://keystone.invalid',
      auth: { type: 'password', username: 'u', password: 'p', projectName: 'p' },
      http: hanging,
      env,
      refreshMarginMs: 120_000,
    });
    const a = new AbortController();
    const b = new AbortController();
    const pa = s.getToken(a.signal);
    const pb = s.getToken(b.signal);
    assert.equal(sent.length, 1, 'one token request for both callers');
    a.abort();
    await assert.rejects(pa, (e: unknown) => e instanceof OpenStackError && e.code === 'aborted');
    assert.equal(sent[0]!.aborted, false, 'the other caller still waits for it');
    b.abort();
    await assert.rejects(pb, (e: unknown) => e instanceof OpenStackError && e.code === 'aborted');
    assert.equal(sent[0]!.aborted, true, 'nobody waits: the request is dropped');
  });
});

describe("Nova's evacuation migrations -> EvacuationRecord", () => {
  test('only done/completed are finished, failed/error/cancelled failed; anything else may still move the server', () => {
    const rec = (status: string) => toEvacuationRecord({ id: 7, status, created_at: '2026-11-22T10:20:33.000000', dest_compute: 'fake-host-3' }).status;
    assert.equal(rec('done'), 'done');
    assert.equal(rec('completed'), 'done');
    for (const s of ['failed', 'error', 'cancelled', 'Failed']) assert.equal(rec(s), 'failed', s);
    for (const s of ['accepted', 'pre-migrating', 'migrating', 'queued', 'something-new']) assert.equal(rec(s), 'in_progress', s);
  });

  test('created_at without a zone is UTC; the destination is kept; a row without a status is refused', () => {
    const r = toEvacuationRecord({ id: 1, status: 'accepted', created_at: '2026-11-22T10:20:33.000000', dest_compute: null });
    assert.equal(r.createdAt?.toISOString(), '2026-11-22T10:20:33.000Z');
    assert.equal(r.destHost, null);
    assert.equal(toEvacuationRecord({ status: 'done', dest_compute: 'h2' }).destHost, 'h2');
    assert.equal(toEvacuationRecord({ status: 'done' }).createdAt, null);
    assert.throws(() => toEvacuationRecord({ id: 2 }));
  });
});
