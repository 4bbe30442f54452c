// The compute role end to end: config -> outbox + HTTP transport + process and host monitors -> a controller of the
// test's own receives masakari-monitors' notifications. (Lives here because delivery is what it proves.)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startCompute, type RunningCompute } from '../../src/roles/compute.ts';
import { requireComponent } from '../support/components.ts';
import { crmMonFile } from '../drivers/cluster/pacemaker/reference.ts';
import { FakeController, notificationOf, waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-compute-'));
const running: RunningCompute[] = [];
const controllers: FakeController[] = [];
after(async () => {
  for (const r of running) await r.stop();
  for (const c of controllers) await c.close();
  rmSync(dir, { recursive: true, force: true });
});

test('process and host failures reach the controller over HTTP; stop() stops everything and keeps the outbox', async () => {
  const c = await new FakeController(() => ({ status: 202, body: {} })).listen();
  controllers.push(c);

  const list = join(dir, 'process_list.yaml');
  writeFileSync(list, `- process_name: /nonexistent/masakari-never-running-daemon\n  restart_command: /bin/false\n  run_as_root: False\n`);
  // crm_mon_command is any program printing crm_mon XML: here `cat` of a recorded output the test swaps.
  const crm = join(dir, 'crm_mon.xml');
  copyFileSync(crmMonFile('01-all-online.xml'), crm);

  const config = parseConfig(
    {
      data_dir: join(dir, 'data'),
      compute: {
        hostname: 'node1',
        heartbeat_interval: 0.05,
        controller: { endpoint: c.endpoint },
        delivery: { retry_initial_seconds: 0.02, retry_max_seconds: 0.1 },
        process_monitor: { enabled: true, process_list_path: list, check_interval: 0.1, restart_retries: 1, restart_interval: 0.01 },
        host_monitor: { enabled: true, monitoring_interval: 0.05, pacemaker: { crm_mon_command: ['cat', crm] } },
      },
    },
    'test',
  );
  const role = await startCompute(config, silentLogger);
  running.push(role);
  assert.deepEqual(
    role.monitors.map((m) => m.name),
    ['process', 'host'],
  );

  await waitFor('process notification', () => c.received.length >= 1);
  await pause50();
  copyFileSync(crmMonFile('03-node3-offline-after-fencing.xml'), crm);
  await waitFor('host notification', () => c.received.some((r) => notificationOf(r).type === 'COMPUTE_HOST'));
  // Heartbeats go to the same controller, same auth header, with each monitor's health.
  type Hb = { heartbeat: { host: string; monitors: Record<string, { watched?: { given_up: boolean }[] } & Record<string, unknown>> } };
  const lastHb = () => (c.heartbeats.at(-1)?.json as Hb | undefined)?.heartbeat;
  await waitFor('a heartbeat showing the process given up', () => lastHb()?.monitors.process?.watched?.[0]?.given_up === true);
  await role.stop();
  const hb = lastHb()!;
  assert.equal(hb.host, 'node1');
  assert.deepEqual(Object.keys(hb.monitors).sort(), ['host', 'process']);
  assert.deepEqual(hb.monitors.process!.watched, [{ name: '/nonexistent/masakari-never-running-daemon', given_up: true }]);
  assert.equal((hb.monitors.host!.last_sample as { quorate: boolean }).quorate, true);
  assert.equal(c.heartbeats[0]!.headers['x-auth-token'], 'notused');

  const bodies = c.received.map((r) => notificationOf(r));
  assert.deepEqual(
    bodies.map((b) => [b.type, b.hostname, b.payload]),
    [
      ['PROCESS', 'node1', { event: 'STOPPED', process_name: 'masakari-never-running-daemon' }],
      ['COMPUTE_HOST', 'node3', { event: 'STOPPED', cluster_status: 'OFFLINE', host_status: 'NORMAL' }],
    ],
  );
  assert.ok(existsSync(join(dir, 'data', 'outbox.sqlite')), 'outbox under data_dir');
});

const pause50 = () => new Promise((r) => setTimeout(r, 50));

test('a missing process list does not stop the role from starting', async () => {
  const config = parseConfig(
    {
      data_dir: join(dir, 'data2'),
      compute: {
        controller: { endpoint: 'http://127.0.0.1:9/v1' },
        process_monitor: { enabled: true, process_list_path: join(dir, 'missing.yaml'), check_interval: 60 },
      },
    },
    'test',
  );
  const role = await startCompute(config, silentLogger);
  running.push(role);
  assert.deepEqual(
    role.monitors.map((m) => m.name),
    ['process'],
  );
  await role.stop();
  await role.stop(); // twice is fine
});

test('the libvirt monitors (instance, introspective) are wired in behind their switches', async (t) => {
  const { libvirtAvailable } = await import('../../src/drivers/libvirt/ffi.ts');
  if (!requireComponent(t, 'libvirt (libvirt0) for test:///default', libvirtAvailable())) return;
  const config = parseConfig(
    {
      data_dir: join(dir, 'data3'),
      compute: { controller: { endpoint: 'http://127.0.0.1:9/v1' } },
      libvirt: { connection_uri: 'test:///default', instance_monitor: { enabled: true }, introspective_monitor: { enabled: true, interval: 60 } },
    },
    'test',
  );
  const role = await startCompute(config, silentLogger);
  running.push(role);
  assert.deepEqual(
    role.monitors.map((m) => m.name),
    ['instance', 'introspective'],
  );
  await role.stop();
});

test('config: a controller endpoint not ending in /v1 is refused with the key path', () => {
  assert.throws(
    () => parseConfig({ compute: { controller: { endpoint: 'http://127.0.0.1:15868' } } }, 'test'),
    /compute\.controller\.endpoint: must be an http\(s\) URL ending in \/v1/,
  );
  assert.throws(() => parseConfig({ compute: { host_monitor: { monitoring_samples: 0 } } }, 'test'), /compute\.host_monitor\.monitoring_samples/);
});
