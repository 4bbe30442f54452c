// The `libvirt:` configuration section (src/core/config/sections/libvirt-monitors.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../../src/core/config/load.ts';

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
});

test('values given are kept', () => {
  const c = parseConfig(
    {
      libvirt: {
        connection_uri: 'qemu+unix:///system?socket=/x',
        instance_monitor: { enabled: true },
        introspective_monitor: { enabled: true, interval: 0.5 },
      },
    },
    'test',
  );
  assert.equal(c.libvirt.connection_uri, 'qemu+unix:///system?socket=/x');
  assert.equal(c.libvirt.instance_monitor.enabled, true);
  assert.equal(c.libvirt.introspective_monitor.interval, 0.5);
});

test('bad values are refused with the path and the reason', () => {
  assert.throws(
    () => parseConfig({ libvirt: { introspective_monitor: { timeout: 0.5 } } }, 'test'),
    (e: unknown) => e instanceof ConfigError && /libvirt\.introspective_monitor\.timeout/.test(e.message),
  );
  assert.throws(
    () => parseConfig({ libvirt: { uri: 'qemu:///system' } }, 'test'),
    (e: unknown) => e instanceof ConfigError && /libvirt/.test(e.message) && /uri/.test(e.message),
  );
});
