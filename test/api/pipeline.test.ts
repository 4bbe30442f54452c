import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createApiApp } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { errorOf, testApi } from './support.ts';

describe('request pipeline', () => {
  const api = testApi({ api: { max_request_body_size: 2048 } });
  after(() => api.close());

  test('versions: / needs nothing, /v1 and /v1/ describe v1, other roots are 300', async () => {
    const root = await api.call('GET', '/');
    assert.equal(root.status, 200);
    assert.deepEqual(
      root.body.versions.map((v: any) => [v.id, v.version, v.min_version]),
      [['v1.0', '1.3', '1.0']],
    );
    for (const p of ['/v1', '/v1/']) {
      const v1 = await api.call('GET', p);
      assert.equal(v1.body.version.links[0].href, 'http://localhost/v1/');
      assert.equal(v1.headers.get('openstack-api-version'), 'masakari 1.0');
    }
    assert.equal((await api.call('GET', '/v2')).status, 300);
  });

  test('proxy headers are ignored unless api.enable_proxy_headers_parsing is on (as oslo.middleware does)', async () => {
    const proxy = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'ha.example.org' };
    const href = (r: { body: any }) => r.body.versions[0].links[0].href;
    assert.equal(href(await api.call('GET', '/', { headers: proxy })), 'http://localhost/v1/', 'off by default');
    assert.equal(href(await api.call('GET', '/', { headers: { Forwarded: 'proto=https;host=ha.example.org' } })), 'http://localhost/v1/');
    const behindProxy = testApi({ api: { enable_proxy_headers_parsing: true } });
    try {
      const at = async (headers: Record<string, string>) => href(await behindProxy.call('GET', '/', { headers }));
      assert.equal(await at(proxy), 'https://ha.example.org/v1/');
      assert.equal(await at({ 'X-Forwarded-Proto': 'HTTPS', 'X-Forwarded-Host': 'ha.example.org:8443, inner:1' }), 'https://ha.example.org:8443/v1/');
      // RFC 7239 Forwarded wins over the X-Forwarded-* headers; the first (outermost) proxy's element counts.
      assert.equal(
        await at({ Forwarded: 'for=192.0.2.1;proto=https;host="ha.example.org", for=10.0.0.1', ...proxy, 'X-Forwarded-Host': 'other' }),
        'https://ha.example.org/v1/',
      );
      // Only http and https, and only a well-formed host[:port]: anything else is ignored, not echoed into links.
      assert.equal(await at({ 'X-Forwarded-Proto': 'javascript', 'X-Forwarded-Host': 'evil.example' }), 'http://evil.example/v1/');
      for (const host of ['a b', 'evil.example/x', 'evil.example:99999', 'x@evil.example', '"><script>', '']) {
        assert.equal(await at({ 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': host }), 'https://localhost/v1/', JSON.stringify(host));
      }
      assert.equal(await at({ Forwarded: 'proto=javascript;host=evil.example' }), 'http://evil.example/v1/');
    } finally {
      await behindProxy.close();
    }
  });

  test('microversions: latest, other services ignored, malformed 400 without version header, too high 406', async () => {
    assert.equal((await api.call('GET', '/v1/segments', { version: 'latest' })).headers.get('openstack-api-version'), 'masakari 1.3');
    const other = await api.call('GET', '/v1/segments', { headers: { 'OpenStack-API-Version': 'compute 2.90, instance-ha 1.1' } });
    assert.equal(other.headers.get('openstack-api-version'), 'masakari 1.1');
    assert.equal(other.headers.get('vary'), 'OpenStack-API-Version');
    const bad = await api.call('GET', '/v1/segments', { version: '1.x' });
    assert.deepEqual(errorOf(bad), {
      key: 'badRequest',
      code: 400,
      message: 'API Version String 1.x is of invalid format. Must be of format MajorNum.MinorNum.',
    });
    assert.equal(bad.headers.get('openstack-api-version'), null);
    const high = await api.call('GET', '/v1/segments', { version: '2.0' });
    assert.deepEqual(errorOf(high), {
      key: 'masakariFault',
      code: 406,
      message: 'Version 2.0 is not supported by the API. Minimum is 1.0 and maximum is 1.3.',
    });
    assert.equal(high.headers.get('openstack-api-version'), 'instance-ha 2.0');
  });

  test('every response carries a request id; errors use the JSON envelope with charset', async () => {
    const r = await api.call('GET', '/v1/segments/x');
    assert.match(r.headers.get('x-openstack-request-id') ?? '', /^req-[0-9a-f-]{36}$/);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=UTF-8');
    assert.equal(r.headers.get('openstack-api-version'), 'instance-ha 1.0');
  });

  test('bodies: too large 413, unsupported type 415, malformed 400, text/plain and no type are JSON', async () => {
    const big = await api.call('POST', '/v1/segments', {
      body: { segment: { name: 'x', description: 'y'.repeat(3000), recovery_method: 'auto', service_type: 'C' } },
    });
    assert.deepEqual(errorOf(big), { key: 'overLimit', code: 413, message: 'Request is too large.' });
    const xml = await api.call('POST', '/v1/segments', { raw: '<segment/>', headers: { 'Content-Type': 'application/xml' } });
    assert.equal(errorOf(xml).code, 415);
    const broken = await api.call('POST', '/v1/segments', { raw: '{"segment":', headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual(errorOf(broken), { key: 'badRequest', code: 400, message: 'Malformed request body' });
    const plain = await api.call('POST', '/v1/segments', {
      raw: '{"segment":{"name":"tp","recovery_method":"auto","service_type":"C"}}',
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(plain.status, 201);
  });

  test('project-scoped URLs fail under noauth2 (no project), non-hex project paths are unknown', async () => {
    const r = await api.call('GET', '/v1/0123456789abcdef/segments');
    assert.equal(errorOf(r).message, "Malformed request URL: URL's project_id '0123456789abcdef' doesn't match Context's project_id 'None'");
    assert.equal((await api.call('GET', '/v1/myproject/segments')).status, 404);
  });

  test('an unexpected failure is a 500 masakariFault without internals', async () => {
    const real = openSqliteStore({ path: ':memory:' });
    const broken = new Proxy(real, {
      get(target, prop, recv) {
        if (prop === 'listSegments') return async () => Promise.reject(new TypeError('secret internal detail'));
        return Reflect.get(target, prop, recv);
      },
    });
    try {
      const app = createApiApp({ store: broken, config: parseConfig({}, 't'), log: silentLogger, hostCatalog: acceptAllHostCatalog });
      const res = await app.request('/v1/segments');
      assert.equal(res.status, 500);
      const text = await res.text();
      assert.doesNotMatch(text, /secret internal detail|at .*\.ts/);
      assert.equal(JSON.parse(text).masakariFault.code, 500);
    } finally {
      await real.close();
    }
  });
});

describe('hostile input never reaches a 500', () => {
  const api = testApi();
  after(() => api.close());

  test('deep nesting, bad percent-encoding, odd numbers and types', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const nested = await api.call('POST', '/v1/segments', { raw: `{"segment":{"name":${deep},"recovery_method":"auto","service_type":"C"}}` });
    assert.equal(nested.status, 400);
    assert.match(errorOf(nested).message, /^Invalid input for field\/attribute name\. Value: \[\[\[.*\.\.\..* is not of type 'string'$/);
    for (const path of [
      '/v1/segments?limit=%ZZ',
      '/v1/segments/%E0%A4%A',
      '/v1/segments?sort_key=%00',
      '/v1/notifications?generated-since=2026-02-30T00:00:00',
    ]) {
      const r = await api.call('GET', path);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${r.text}`);
    }
    for (const body of [
      '{"segment":{"name":"x","recovery_method":"auto","service_type":"C","description":1e400}}',
      'null',
      '"segment"',
      '{"segment":[]}',
      '\u00ff\u00fe',
    ]) {
      const r = await api.call('POST', '/v1/segments', { raw: body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 400, `${body}: ${r.text}`);
    }
    const extras = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i]));
    const many = await api.call('POST', '/v1/segments', { body: { segment: { name: 'x', recovery_method: 'auto', service_type: 'C', ...extras } } });
    assert.match(errorOf(many).message, /'k79' were unexpected\)$/);
  });
});
