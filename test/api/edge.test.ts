// The HTTP edge over a real socket: what Node's HTTP server and the adapter answer before the app runs (parser
// rejections, bad request targets, CONNECT, Expect), requests that offer a protocol upgrade, clients that go away
// mid-body, and what the access log says about each. Raw TCP, because fetch() refuses to send most of these requests.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createApiApp, startApiServer, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import type { ConfigInput } from '../../src/core/config/schema.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';
import { KeystoneTokenValidator } from '../../src/drivers/identity/keystone.ts';
import { captureLog, LEVEL, type CapturedLog, type LogLine } from './log-capture.ts';
import { rawRequest, type RawResponse } from './raw-http.ts';

const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Served {
  port: number;
  captured: CapturedLog;
  store: Store;
  close(): Promise<void>;
}

async function serve(api: ConfigInput['api'] = {}): Promise<Served> {
  const captured = captureLog();
  const store = openSqliteStore({ path: ':memory:' });
  const config = parseConfig({ api }, 'test');
  const app = createApiApp({
    store,
    config,
    log: captured.log,
    hostCatalog: acceptAllHostCatalog,
    ...(config.api.auth_strategy === 'keystone' ? { tokenValidator: new KeystoneTokenValidator(config.api.keystone, captured.log) } : {}),
  });
  const server: RunningApi = await startApiServer(app, '127.0.0.1:0', { log: captured.log });
  return {
    port: server.port,
    captured,
    store,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

/** Writes `request`, half-closes, and collects everything the server sends until it closes ('TIMEOUT' appended when it does not). */
function exchangeUntilClosed(port: number, request: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.end(request));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const timer = setTimeout(() => (socket.destroy(), resolve(`${got}TIMEOUT`)), timeoutMs);
    socket.on('error', () => undefined);
    socket.on('close', () => (clearTimeout(timer), resolve(got)));
  });
}

const accessLine = (requestId: string) => (l: LogLine) => l.msg === 'request' && l.requestId === requestId;
const errors = (c: CapturedLog) => c.lines.filter((l) => l.level >= LEVEL.error);

/** A Masakari fault: JSON envelope with charset, a request id, and an access-log line with the same id and status. */
async function assertFault(s: Served, r: RawResponse | undefined, status: number, key: string, what: string) {
  assert.ok(r, `${what}: an answer`);
  assert.equal(r.status, status, `${what}: status`);
  assert.equal(r.headers['content-type'], 'application/json; charset=UTF-8', `${what}: content type`);
  const body = JSON.parse(r.body) as Record<string, { code: number; message: string }>;
  assert.deepEqual(Object.keys(body), [key], `${what}: fault key`);
  assert.equal(body[key]!.code, status, `${what}: code`);
  assert.equal(typeof body[key]!.message, 'string');
  const id = r.headers['x-openstack-request-id'] ?? '';
  assert.match(id, REQUEST_ID, `${what}: request id`);
  const line = await s.captured.waitFor(accessLine(id), 3000, `access-log line for ${what}`);
  assert.equal(line.status, status, `${what}: logged status`);
  assert.equal(line.client, '127.0.0.1', `${what}: logged client address`);
  return body[key]!;
}

describe('HTTP edge (noauth2)', () => {
  let s: Served;
  before(async () => (s = await serve({ max_request_body_size: 2048 })));
  after(() => s.close());

  test('requests the HTTP parser or the adapter rejects get a JSON fault, a request id and an access-log line', async () => {
    const cases: [string, string | Buffer, number, string][] = [
      ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'badRequest'],
      ['invalid Host', 'GET /v1 HTTP/1.1\r\nHost: a b\r\n\r\n', 400, 'badRequest'],
      ['HTTP/1.1 without Host', 'GET /v1 HTTP/1.1\r\n\r\n', 400, 'badRequest'],
      ['bad header name', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400, 'badRequest'],
      ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', 400, 'badRequest'],
      ['not HTTP at all', 'HELLO\r\n\r\n', 400, 'badRequest'],
      ['unknown method', 'FROB /v1 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'badRequest'],
      ['head over 16 KiB', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431, 'masakariFault'],
      ['bad chunked body', 'POST /v1/segments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'badRequest'],
      ['CONNECT', 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n', 405, 'badMethod'],
      ['unknown expectation', 'GET / HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n', 417, 'masakariFault'],
    ];
    for (const [what, request, status, key] of cases) {
      const { response, raw } = await rawRequest(s.port, request);
      assert.ok(response, `${what}: no answer; got ${JSON.stringify(raw)}`);
      await assertFault(s, response, status, key, what);
    }
    assert.deepEqual(errors(s.captured), [], 'client mistakes are not logged as errors');
  });

  test('clients that reset the connection right after a rejected request do not crash the server', async () => {
    const rejected = ['CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'];
    for (const request of rejected) for (let i = 0; i < 50; i++) await rawRequest(s.port, request, { end: 'reset' });
    await new Promise((r) => setTimeout(r, 100)); // a write error would surface as an uncaught exception by now
    assert.equal((await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).response?.status, 200);
  });

  test('HEAD answers carry the request id too, also for errors raised before the microversion is known', async () => {
    for (const [what, request, status] of [
      ['bad microversion', 'HEAD /v1/segments HTTP/1.1\r\nHost: x\r\nOpenStack-API-Version: instance-ha 01.1\r\n\r\n', 400],
      ['unknown segment', 'HEAD /v1/segments/nope HTTP/1.1\r\nHost: x\r\n\r\n', 404],
      ['list', 'HEAD /v1/segments HTTP/1.1\r\nHost: x\r\n\r\n', 200],
    ] as const) {
      const { response, raw } = await rawRequest(s.port, request);
      assert.equal(response?.status, status, `${what}: ${raw}`);
      assert.match(response.headers['x-openstack-request-id'] ?? '', REQUEST_ID, `${what}: ${raw}`);
    }
  });

  test('a malformed request pipelined behind a good one: the good one is answered first, then the 400', async () => {
    const { raw } = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n', { end: 'half-close' });
    const first = raw.indexOf('HTTP/1.1 200');
    const second = raw.indexOf('HTTP/1.1 400');
    assert.ok(first === 0 && second > first, `200 then 400, got ${JSON.stringify(raw)}`);
    assert.match(raw.slice(second), /\{"badRequest":\{"code":400,"message":"[^"]+"\}\}$/);
  });

  test('requests asking for a protocol upgrade are answered as plain HTTP requests (the API never upgrades)', async () => {
    // Connection: Upgrade + Upgrade makes Node's parser stop after the head or the body (the rest would be another
    // protocol); the server must still answer, read the body as usual and log the request.
    const upgrade = 'Host: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n';
    const segment = (name: string) => `{"segment":{"name":"${name}","recovery_method":"auto","service_type":"compute"}}`;
    const [a, b] = [segment('up-a'), segment('up-b')];
    const cases: [string, string, number, string | undefined][] = [
      [
        'bad chunked body',
        `POST /v1/segments HTTP/1.1\r\n${upgrade}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${a}\r\n0\r\n\r\n`,
        400,
        'badRequest',
      ],
      [
        'valid Content-Length body',
        `POST /v1/segments HTTP/1.1\r\n${upgrade}Content-Type: application/json\r\nContent-Length: ${a.length}\r\n\r\n${a}`,
        201,
        undefined,
      ],
      [
        'valid chunked body',
        `POST /v1/segments HTTP/1.1\r\n${upgrade}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`,
        201,
        undefined,
      ],
      ['invalid JSON body', `POST /v1/segments HTTP/1.1\r\n${upgrade}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":`, 400, 'badRequest'],
      ['GET without a body', `GET /v1/segments HTTP/1.1\r\n${upgrade}\r\n`, 200, undefined],
      ['HTTP/1.0 GET', `GET /v1/segments HTTP/1.0\r\n${upgrade}\r\n`, 200, undefined],
    ];
    for (const [what, request, status, key] of cases) {
      const { response, raw } = await rawRequest(s.port, request, { timeoutMs: 3000 });
      assert.ok(response, `${what}: no answer; got ${JSON.stringify(raw)}`);
      if (key) {
        await assertFault(s, response, status, key, what);
        // A body the parser gave up on leaves the connection unusable: the answer closes it.
        if (what === 'bad chunked body') assert.equal(response.headers['connection'], 'close', `${what}: ${raw}`);
      } else {
        assert.equal(response.status, status, `${what}: ${raw}`);
        assert.equal(response.headers['upgrade'], undefined, `${what}: no upgrade offered`);
        const id = response.headers['x-openstack-request-id'] ?? '';
        assert.match(id, REQUEST_ID, `${what}: request id`);
        const line = await s.captured.waitFor(accessLine(id), 3000, `access-log line for ${what}`);
        assert.equal(line.status, status);
      }
    }
    assert.deepEqual(errors(s.captured), []);
  });

  test('a connection that offered an upgrade stays plain HTTP: a request pipelined behind it is answered in turn', async () => {
    // Without a 101 the connection never changed protocol (RFC 9110 7.8), so what follows is the next HTTP request:
    // it is neither lost nor answered out of order.
    const request = 'GET /v1/segments HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n';
    const { raw } = await rawRequest(s.port, request, { end: 'half-close', timeoutMs: 3000 });
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '404'], `got ${JSON.stringify(raw)}`);
  });

  test('upgrade offers pipelined behind requests still being answered: every request answered, in order, then closed', async () => {
    // The second offer is parsed while the first answer is still being prepared: it must wait for it, not be lost.
    const up = (path: string) =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`;
    const tail = `${up('/v1/nope')}${up('/v1/segments/nope')}GET /v1/hosts/nope HTTP/1.1\r\nHost: x\r\n\r\n`;
    // Led by a plain request, and by an offer (then the client's FIN is read while the second offer waits).
    for (const first of ['GET /v1/segments HTTP/1.1\r\nHost: x\r\n\r\n', up('/v1/segments')]) {
      const raw = await exchangeUntilClosed(s.port, first + tail, 3000);
      const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
      assert.deepEqual(statuses, ['200', '404', '404', '404'], `got ${JSON.stringify(raw)}`);
      assert.ok(!raw.endsWith('TIMEOUT'), `the connection was closed after the answers: ${JSON.stringify(raw)}`);
    }
  });

  test('a client that goes away in the middle of a body is a client event: no 500, no error line', async () => {
    const head = 'POST /v1/segments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"segment":';
    for (const end of ['half-close', 'destroy', 'reset'] as const) {
      const before = s.captured.lines.length;
      const { response } = await rawRequest(s.port, head, { end });
      if (response) await assertFault(s, response, 400, 'badRequest', `${end}: answer`);
      // The app's own access line for the POST names the client and the abort.
      const line = await s.captured.waitFor(
        (l) => s.captured.lines.indexOf(l) >= before && l.msg === 'request' && l.method === 'POST' && l.path === '/v1/segments' && !l.rejected,
        3000,
        `access line of the aborted POST (${end})`,
      );
      assert.notEqual(line.status, 500, `${end}: ${JSON.stringify(line)}`);
      assert.equal(line.aborted, true, `${end}: ${JSON.stringify(line)}`);
      assert.equal(line.client, '127.0.0.1');
    }
    assert.deepEqual(errors(s.captured), []);
    // The server is still fine.
    const ok = await rawRequest(s.port, 'GET /v1/segments HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(ok.response?.status, 200);
  });

  test('the access log names the client; X-Forwarded-For is not believed unless proxy parsing is on', async () => {
    const { response } = await rawRequest(s.port, 'GET /v1/segments HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n');
    assert.equal(response?.status, 200);
    const line = await s.captured.waitFor(accessLine(response.headers['x-openstack-request-id']!));
    assert.equal(line.client, '127.0.0.1');
    assert.equal(line.forwardedFor, undefined);
  });
});

describe('HTTP edge with proxy header parsing on', () => {
  let s: Served;
  before(async () => (s = await serve({ enable_proxy_headers_parsing: true })));
  after(() => s.close());

  test('the access log names the client and the one the proxy forwarded for', async () => {
    const { response } = await rawRequest(s.port, 'GET /v1/segments HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.2\r\n\r\n');
    assert.equal(response?.status, 200);
    const line = await s.captured.waitFor(accessLine(response.headers['x-openstack-request-id']!));
    assert.equal(line.client, '127.0.0.1');
    assert.equal(line.forwardedFor, '203.0.113.9, 10.0.0.2');
  });
});

describe('HTTP edge (keystone, down)', () => {
  let s: Served;
  // A Keystone that answers every call late and with a 503: a request with a token waits, then gets 503.
  const keystone = createServer((_req, res) => setTimeout(() => res.writeHead(503).end(), 100));
  before(async () => {
    await new Promise<void>((r) => keystone.listen(0, '127.0.0.1', r));
    const { port } = keystone.address() as AddressInfo;
    s = await serve({ auth_strategy: 'keystone', keystone: { auth_url: `http://127.0.0.1:${port}/v3`, timeout_seconds: 2 } });
  });
  after(async () => {
    await s.close();
    keystone.closeAllConnections();
    await new Promise((r) => keystone.close(r));
  });

  test('a request without a token is answered 401 before its body is read', async () => {
    const { response, raw } = await rawRequest(
      s.port,
      'POST /v1/segments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"segment":',
      { timeoutMs: 2000 },
    );
    assert.equal(response?.status, 401, `got ${JSON.stringify(raw)}`);
    assert.match(response.headers['x-openstack-request-id'] ?? '', REQUEST_ID);
  });

  test('a client that half-closes after its request still gets the answer, also when it takes a while', async () => {
    // The token makes the server ask Keystone (slow, then 503) before answering; the FIN arrives long before that.
    const { response, raw } = await rawRequest(s.port, 'GET /v1/segments HTTP/1.1\r\nHost: x\r\nX-Auth-Token: t\r\n\r\n', { end: 'half-close' });
    assert.equal(response?.status, 503, `got ${JSON.stringify(raw)}`);
    assert.equal(JSON.parse(response.body).serviceUnavailable.code, 503);
  });

  test('an upgrade offer pipelined behind a slow answer, with the FIN read meanwhile: answered in turn, then closed', async () => {
    // The first answer waits for Keystone (slow, then 503); the client's FIN arrives while the second offer waits.
    const up = (token: string) => `GET /v1/segments HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${token}\r\n`;
    const request = `${up('X-Auth-Token: t\r\n')}${up('')}GET /v1/hosts HTTP/1.1\r\nHost: x\r\n\r\n`;
    const raw = await exchangeUntilClosed(s.port, request, 3000);
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['503', '401', '401'], `got ${JSON.stringify(raw)}`);
    assert.ok(!raw.endsWith('TIMEOUT'), `the connection was closed after the answers: ${JSON.stringify(raw)}`);
  });

  test('HEAD without a token: 401 with a request id', async () => {
    const { response, raw } = await rawRequest(s.port, 'HEAD /v1/segments HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(response?.status, 401, raw);
    assert.match(response.headers['x-openstack-request-id'] ?? '', REQUEST_ID, raw);
  });

  test('an aborted body without a token leaves no error line', async () => {
    const before = s.captured.lines.length;
    for (const end of ['half-close', 'reset'] as const) {
      await rawRequest(s.port, 'POST /v1/segments HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"segment":', { end });
    }
    await new Promise((r) => setTimeout(r, 200));
    const since = s.captured.lines.slice(before);
    assert.deepEqual(
      since.filter((l) => l.level >= LEVEL.error),
      [],
    );
    assert.deepEqual(
      since.filter((l) => l.msg === 'request' && (l.status as number) >= 500),
      [],
    );
  });
});
