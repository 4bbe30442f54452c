// The head an upgrade offer is served with once the offer is taken out (src/core/api/upgrade-offer.ts); the
// behaviour on the wire is in edge.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headWithoutUpgradeOffer } from '../../src/core/api/upgrade-offer.ts';

const head = (rawHeaders: string[], version = '1.1') =>
  headWithoutUpgradeOffer({ method: 'POST', url: '/v1/segments?x=1', httpVersion: version, rawHeaders }).toString('latin1');

test('the offer goes, everything else stays as received (names, order, repeats, other Connection tokens)', () => {
  assert.equal(
    head(['Host', 'x', 'connection', 'keep-alive, Upgrade, HTTP2-Settings', 'UPGRADE', 'h2c', 'HTTP2-Settings', 'AAM', 'X-A', '1', 'X-A', '2']),
    'POST /v1/segments?x=1 HTTP/1.1\r\nHost: x\r\nconnection: keep-alive, HTTP2-Settings\r\nHTTP2-Settings: AAM\r\nX-A: 1\r\nX-A: 2\r\n\r\n',
  );
});

test('a Connection header that only carried the offer goes; HTTP/1.0 stays 1.0', () => {
  assert.equal(
    head(['Host', 'x', 'Connection', 'upgrade', 'Connection', ' Upgrade ,', 'Upgrade', 'websocket'], '1.0'),
    'POST /v1/segments?x=1 HTTP/1.0\r\nHost: x\r\n\r\n',
  );
});

test('header values come back as the bytes that arrived (Node gives them as latin1)', () => {
  const bytes = headWithoutUpgradeOffer({ method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['X-A', '\u00e9\u00ff'] });
  assert.deepEqual([...bytes.subarray(bytes.indexOf('X-A: ') + 5, bytes.indexOf('X-A: ') + 7)], [0xe9, 0xff]);
});
