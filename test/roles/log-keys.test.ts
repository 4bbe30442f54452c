// Every JSON log line of the controller role carries each key once. Log collectors keep one of two equal keys or
// reject the line; the Nova driver's calls used to log "component":"nova","component":"openstack". The role runs
// for real (store, API with Keystone token validation, Nova driver) against a stand-in Keystone and Nova on loopback,
// and every line it logs goes through a parser that refuses a repeated key (test/support/checked-log.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config/load.ts';
import * as controller from '../../src/roles/controller.ts';
import { FakeKeystone } from '../api/fake-keystone.ts';
import { checkedLogger, parseStrictJson } from '../support/checked-log.ts';

test('the strict parser finds a repeated key that JSON.parse would hide', () => {
  assert.throws(() => parseStrictJson('{"component":"nova","component":"openstack"}'), /duplicate key "component"/);
  assert.throws(() => parseStrictJson('{"a":{"b":1,"b":2}}'), /duplicate key "b"/);
  assert.deepEqual(parseStrictJson('{"a":[1,{"b":"x\\"y"}],"c":null}'), { a: [1, { b: 'x"y' }], c: null });
});

/** A stand-in Nova: version document, and one compute service on host cmp1. */
async function fakeNova() {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
    const send = (body: unknown) => res.writeHead(200, { 'Content-Type': 'application/json', 'X-Openstack-Request-Id': 'req-nova' }).end(JSON.stringify(body));
    if (path === '/v2.1') return send({ version: { id: 'v2.1', status: 'CURRENT', version: '2.93', min_version: '2.1' } });
    if (path === '/v2.1/os-services') {
      return send({
        services: [
          {
            id: 'svc-1',
            binary: 'nova-compute',
            host: 'cmp1',
            status: 'enabled',
            state: 'up',
            forced_down: false,
            zone: 'nova',
            disabled_reason: null,
            updated_at: null,
          },
        ],
      });
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"itemNotFound":{"code":404,"message":"not here"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2.1`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

test('controller role with Keystone auth and the Nova driver: no JSON log line repeats a key', async (t) => {
  const ks = new FakeKeystone();
  await ks.start();
  t.after(() => ks.stop());
  const nova = await fakeNova();
  t.after(() => nova.close());
  const dir = mkdtempSync(join(tmpdir(), 'masakari-logkeys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({
    overrides: {
      data_dir: dir,
      log: { level: 'trace' },
      api: { listen: '127.0.0.1:0', auth_strategy: 'keystone', keystone: { auth_url: `${ks.url}/v3`, password: 'secret' } },
      database: { auto_migrate: true },
      controller: { compute_driver: 'nova' },
      openstack: { auth_url: `${ks.url}/v3`, username: 'masakari', password: 'secret', project_name: 'service', compute_endpoint_override: nova.url },
    },
  });
  const checked = checkedLogger('trace');
  const ctl = await controller.start(config, checked.log);
  try {
    const base = `http://127.0.0.1:${ctl.port}/v1`;
    const call = (method: string, path: string, body?: unknown, token = 'admin-token') =>
      fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'x-auth-token': token },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    assert.equal((await call('GET', '/segments', undefined, 'no-such-token')).status, 401);
    const seg = await call('POST', '/segments', { segment: { name: 's1', recovery_method: 'auto', service_type: 'COMPUTE' } });
    assert.ok(seg.status < 300, `${seg.status} ${await seg.clone().text()}`);
    const segId = ((await seg.json()) as { segment: { uuid: string } }).segment.uuid;
    // Adding a host asks Nova whether it exists: Keystone authentication, version discovery, GET /os-services.
    const host = await call('POST', `/segments/${segId}/hosts`, { host: { name: 'cmp1', type: 'COMPUTE', control_attributes: 'x' } });
    assert.ok(host.status < 300, `${host.status} ${await host.clone().text()}`);
  } finally {
    await ctl.stop();
  }
  await new Promise((r) => setTimeout(r, 50)); // pino writes asynchronously
  assert.ok(
    checked.raw.some((l) => l.includes('"msg":"openstack call"')),
    `the Nova driver's calls were logged:\n${checked.raw.join('\n')}`,
  );
  assert.deepEqual(checked.problems, []);
});
