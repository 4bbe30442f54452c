import { test, after } from 'node:test';
import { createServer } from 'node:http';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/core/delivery/backoff.ts';
import { LocalTransport } from '../../src/core/delivery/local-transport.ts';
import { HttpTransport } from '../../src/drivers/delivery/http-transport.ts';
import { FixedToken, KeystonePasswordAuth } from '../../src/drivers/delivery/auth.ts';
import { faultMessage, outcomeOfStatus } from '../../src/core/ports/notification-transport.ts';
import { badRequest, conflict } from '../../src/core/domain/errors.ts';
import type { NotificationDraft } from '../../src/core/ports/notify.ts';
import { FakeController, freePort } from './helpers.ts';

const draft: NotificationDraft = {
  type: 'COMPUTE_HOST',
  hostname: 'node3',
  generated_time: '2026-11-22T02:19:03.547427',
  payload: { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' },
};

const servers: FakeController[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

test('backoff doubles from the initial delay, stays under the cap, and is jittered into [half, full)', () => {
  const o = { initialMs: 1000, maxMs: 60_000 };
  assert.equal(
    backoffDelay(1, o, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(1, o, () => 0.999999),
    1000,
  );
  assert.equal(
    backoffDelay(3, o, () => 0),
    2000,
  );
  assert.equal(
    backoffDelay(50, o, () => 0.999999),
    60_000,
  );
  assert.equal(
    backoffDelay(10_000, o, () => 0),
    30_000,
    'huge attempt counts do not overflow',
  );
});

test('HTTP statuses map to outcomes; fault bodies give their message', () => {
  assert.equal(outcomeOfStatus(202, '').kind, 'accepted');
  assert.equal(outcomeOfStatus(409, 'dup').kind, 'conflict');
  assert.equal(outcomeOfStatus(400, 'bad').kind, 'rejected');
  for (const s of [401, 403, 404, 413, 500, 502, 503]) assert.equal(outcomeOfStatus(s, '').kind, 'retry', String(s));
  assert.equal(faultMessage('{"conflictingRequest": {"code": 409, "message": "is duplicate."}}'), 'is duplicate.');
  assert.equal(faultMessage('<html>\n<body>502 Bad Gateway</body></html>'), '<html> <body>502 Bad Gateway</body></html>');
});

test('LocalTransport: resolve = accepted; MasakariError 409/400 = conflict/rejected; anything else = retry', async () => {
  const got: NotificationDraft[] = [];
  assert.deepEqual(await new LocalTransport(async (d) => void got.push(d)).send(draft), { kind: 'accepted', status: 202 });
  assert.deepEqual(got, [draft]);
  assert.deepEqual(await new LocalTransport(async () => Promise.reject(conflict('dup'))).send(draft), {
    kind: 'conflict',
    status: 409,
    message: 'dup',
  });
  assert.equal((await new LocalTransport(async () => Promise.reject(badRequest('no host'))).send(draft)).kind, 'rejected');
  assert.deepEqual(await new LocalTransport(async () => Promise.reject(new Error('database is locked'))).send(draft), {
    kind: 'retry',
    message: 'database is locked',
  });
});

test('Keystone password auth: token from X-Subject-Token, reused, renewed after a 401', async () => {
  // A stand-in Keystone: the v3 password exchange only (the real one takes half a minute to start).
  let issued = 0;
  const ks = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const auth = JSON.parse(body) as { auth: { identity: { password: { user: { name: string; password: string } } } } };
      const user = auth.auth.identity.password.user;
      if (user.name !== 'masakari' || user.password !== 'secret') {
        res.writeHead(401).end('{}');
        return;
      }
      issued++;
      res.writeHead(201, { 'X-Subject-Token': `tok-${issued}`, 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          token: {
            expires_at: '2999-01-01T00:00:00Z',
            catalog: [{ type: 'instance-ha', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://placeholder/v1' }] }],
          },
        }),
      );
    });
  });
  await new Promise<void>((r) => ks.listen(0, '127.0.0.1', () => r()));
  after(() => new Promise<void>((r) => ks.close(() => r())));
  const ksPort = (ks.address() as { port: number }).port;

  const seenTokens: string[] = [];
  const api = await new FakeController((r, i) => {
    seenTokens.push(String(r.headers['x-auth-token']));
    return i === 1 ? { status: 401, body: {} } : { status: 202, body: {} };
  }).listen();
  servers.push(api);

  const auth = new KeystonePasswordAuth({
    authUrl: `http://127.0.0.1:${ksPort}/v3`,
    username: 'masakari',
    password: 'secret',
    projectName: 'service',
    userDomainName: 'Default',
    projectDomainName: 'Default',
    regionName: 'RegionOne',
    interface: 'public',
    timeoutMs: 2000,
  });
  const t = new HttpTransport({ endpoint: api.endpoint, auth, timeoutMs: 2000 });
  assert.equal((await t.send(draft)).kind, 'accepted');
  assert.equal((await t.send(draft)).kind, 'retry', '401 is retried');
  assert.equal((await t.send(draft)).kind, 'accepted');
  assert.deepEqual(seenTokens, ['tok-1', 'tok-1', 'tok-2']);
  assert.equal(await auth.endpointFromCatalog(), 'http://placeholder/v1');

  const wrong = new KeystonePasswordAuth({
    authUrl: `http://127.0.0.1:${ksPort}/v3`,
    username: 'masakari',
    password: 'nope',
    projectName: 'service',
    userDomainName: 'Default',
    projectDomainName: 'Default',
    regionName: null,
    interface: 'public',
    timeoutMs: 2000,
  });
  const outcome = await new HttpTransport({ endpoint: api.endpoint, auth: wrong, timeoutMs: 2000 }).send(draft);
  assert.equal(outcome.kind, 'retry');
  assert.match((outcome as { message: string }).message, /Keystone .* answered 401/);
});

test('HTTP transport: a refused connection is a retry with the reason', async () => {
  const port = await freePort();
  const outcome = await new HttpTransport({ endpoint: `http://127.0.0.1:${port}/v1`, auth: new FixedToken('x'), timeoutMs: 2000 }).send(draft);
  assert.equal(outcome.kind, 'retry');
  assert.match((outcome as { message: string }).message, /ECONNREFUSED/);
});
