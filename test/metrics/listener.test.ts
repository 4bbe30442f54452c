// The metrics listener's configuration: null turns it off; an address already taken leaves the role running without
// metrics and says so; a bad address stops startup naming the key.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import * as controller from '../../src/roles/controller.ts';
import { checkedLogger } from '../support/checked-log.ts';

function configFor(dir: string, listen: string | null) {
  return loadConfig({
    env: {},
    overrides: { data_dir: dir, api: { listen: '127.0.0.1:0' }, metrics: { listen }, database: { auto_migrate: true } },
  });
}

test('metrics.listen defaults to loopback port 15870; null turns metrics off', async (t) => {
  assert.equal(loadConfig({ env: {}, overrides: {} }).metrics.listen, '127.0.0.1:15870');
  const dir = mkdtempSync(join(tmpdir(), 'met-lis-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ctl = await controller.start(configFor(dir, null), silentLogger);
  t.after(() => ctl.stop());
  assert.equal(ctl.metricsPort, null);
  assert.equal((await fetch(`http://127.0.0.1:${ctl.port}/v1/segments`)).status, 200, 'the API runs');
});

test('an address already taken: the controller runs on without metrics and logs why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'met-lis-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.after(() => blocker.close());
  const taken = `127.0.0.1:${(blocker.address() as { port: number }).port}`;
  const checked = checkedLogger('info');
  const ctl = await controller.start(configFor(dir, taken), checked.log);
  t.after(() => ctl.stop());
  assert.equal(ctl.metricsPort, null);
  assert.equal((await fetch(`http://127.0.0.1:${ctl.port}/v1/segments`)).status, 200);
  const line = checked.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith(`cannot listen for metrics on ${taken}`));
  assert.ok(line, checked.raw.join('\n'));
  assert.equal(line.level, 50);
  assert.match(String(line.msg), /metrics\.listen/);
});

test('a malformed metrics.listen stops startup naming the key', () => {
  assert.throws(() => loadConfig({ env: {}, overrides: { metrics: { listen: 'nowhere' } } }), /metrics\.listen/);
});
