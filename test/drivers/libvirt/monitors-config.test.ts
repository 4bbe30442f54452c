// The `libvirt:` configuration section and the monitors it builds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/log.ts';
import { buildLibvirtMonitors } from '../../../src/drivers/libvirt/monitors.ts';

const sink = { submit: async () => {} };

test('defaults: qemu:///system, masakari timings, both monitors off', () => {
  const c = parseConfig({}, 'test');
  assert.deepEqual(c.libvirt, {
    connection_uri: 'qemu:///system',
    keepalive_interval: 5,
    keepalive_count: 3,
    reconnect_interval: 3,
    instance_monitor: { enabled: false },
    introspective_monitor: { enabled: false, interval: 10, timeout: 2, failure_threshold: 3 },
  });
  assert.deepEqual(buildLibvirtMonitors(c, sink, silentLogger), []);
});

test('enabled monitors are built with their names (nothing connects before start)', () => {
  const c = parseConfig({ libvirt: { instance_monitor: { enabled: true }, introspective_monitor: { enabled: true, interval: 5 } } }, 'test');
  assert.deepEqual(buildLibvirtMonitors(c, sink, silentLogger).map((m) => m.name), ['instance', 'introspective']);
});

test('bad values are refused with the path and the reason', () => {
  assert.throws(() => parseConfig({ libvirt: { introspective_monitor: { timeout: 0.5 } } }, 'test'), (e: unknown) => e instanceof ConfigError && /libvirt\.introspective_monitor\.timeout/.test(e.message));
  assert.throws(() => parseConfig({ libvirt: { uri: 'qemu:///system' } }, 'test'), (e: unknown) => e instanceof ConfigError && /libvirt/.test(e.message) && /uri/.test(e.message));
});
