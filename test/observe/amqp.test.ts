// Masakari's versioned notifications on a real RabbitMQ (a private node, test/labs/rabbitmq/) received by a real
// oslo.messaging notification listener (Debian python3-oslo.messaging, test/labs/rabbitmq/oslo_listener.py), from a
// real controller recovering a failed host on libvirt's test driver: a segment create, a host update and the host
// failure recovery arrive with Masakari's event types, priorities, publisher_id and payload objects, field by
// field against Masakari's samples. Then the broker is stopped: API requests and a recovery go on, the
// notifications beyond the buffer are dropped and counted; the broker comes back and new notifications arrive.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { notificationDeliveryStats } from '../../src/core/observe/notifier.ts';
import { libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import * as controller from '../../src/roles/controller.ts';
import { requireComponent } from '../support/components.ts';
import { testDomainXml, twoTestHosts } from '../drivers/libvirt-compute/fixtures.ts';
import { RabbitLab, RABBITMQ_COMPONENT, rabbitmqAvailable } from '../labs/rabbitmq/lab.ts';
import { notificationDifferences } from './samples.ts';

const PYTHON = '/usr/bin/python3';
const LISTENER = join(import.meta.dirname, '..', 'labs', 'rabbitmq', 'oslo_listener.py');
const U1 = '55555555-5555-4555-8555-555555555555';

interface Received {
  priority: string;
  publisher_id: string;
  event_type: string;
  payload: { 'masakari_object.data': Record<string, unknown> } & Record<string, unknown>;
  metadata: Record<string, unknown>;
  context: Record<string, unknown>;
}

function osloMessagingAvailable(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import oslo_messaging'], { stdio: 'ignore' }).status === 0;
}

const until = async <T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 60_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test(
  'versioned notifications reach an oslo.messaging listener exactly as Masakari sends them, and survive a broker outage',
  { timeout: 600_000 },
  async (t) => {
    if (!requireComponent(t, RABBITMQ_COMPONENT, rabbitmqAvailable())) return;
    if (!requireComponent(t, 'oslo.messaging (Debian package python3-oslo.messaging)', osloMessagingAvailable())) return;
    if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;

    const lab = new RabbitLab();
    t.after(() => lab.destroy());
    await lab.start();

    const got: Received[] = [];
    const listener = spawn(PYTHON, [LISTENER, lab.url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let listenerErr = '';
    listener.stderr.on('data', (d: Buffer) => (listenerErr = (listenerErr + d.toString()).slice(-4000)));
    t.after(() => {
      listener.kill('SIGKILL');
    });
    let ready = false;
    createInterface({ input: listener.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as Received & { ready?: boolean };
      if (m.ready) ready = true;
      else got.push(m);
    });
    await until(`the oslo.messaging listener (${listenerErr})`, () => ready);

    const h = twoTestHosts([testDomainXml('vm', U1, true)]);
    t.after(() => h.cleanup());
    const dir = mkdtempSync(join(tmpdir(), 'obs-amqp-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const config = loadConfig({
      env: {},
      overrides: {
        data_dir: dir,
        api: { listen: '127.0.0.1:0' },
        database: { auto_migrate: true },
        controller: { compute_driver: 'libvirt' },
        engine: { verify_interval: 0.05, wait_period_after_service_update: 1, wait_period_after_evacuation: 10, wait_period_after_power_off: 1 },
        host_failure: { fencing_required: false },
        oslo_messaging_notifications: {
          driver: 'messagingv2',
          transport_url: lab.url,
          buffer_size: 20,
          reconnect_initial_seconds: 0.2,
          reconnect_max_seconds: 1,
        },
      },
    });
    const ctl = await controller.start(config, silentLogger, { compute: h.driver });
    t.after(() => ctl.stop());
    await h.driver.refreshInventory();
    const base = `http://127.0.0.1:${ctl.port}/v1`;
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: r.status, body: (await r.json()) as Record<string, Record<string, unknown>> };
    };
    const notify = (type: string, host: string, payload: Record<string, string>) =>
      call('POST', '/notifications', { notification: { type, hostname: host, generated_time: new Date().toISOString(), payload } });
    const finalStatus = (uuid: string) =>
      until(`notification ${uuid} to end`, async () => {
        const s = String((await call('GET', `/notifications/${uuid}`)).body.notification!.status);
        return ['finished', 'error', 'failed', 'ignored'].includes(s) ? s : undefined;
      });
    const data = (r: Received) => r.payload['masakari_object.data'];

    // 1. Broker up: a segment create, a host update, a host failure recovery.
    const seg = await call('POST', '/segments', { segment: { name: 'obs-seg', recovery_method: 'auto', service_type: 'COMPUTE' } });
    assert.equal(seg.status, 201);
    const segId = String(seg.body.segment!.uuid);
    const hosts: Record<string, string> = {};
    for (const name of ['node-a', 'node-b']) {
      const r = await call('POST', `/segments/${segId}/hosts`, { host: { name, type: 'COMPUTE', control_attributes: 'libvirt' } });
      assert.equal(r.status, 201);
      hosts[name] = String(r.body.host!.uuid);
    }
    assert.equal((await call('PUT', `/segments/${segId}/hosts/${hosts['node-b']}`, { host: { control_attributes: 'updated' } })).status, 200);
    h.kill('node-a');
    const down = await notify('COMPUTE_HOST', 'node-a', { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' });
    assert.equal(down.status, 202);
    const downId = String(down.body.notification!.notification_uuid);
    assert.equal(await finalStatus(downId), 'finished');

    const wanted: [string, (r: Received) => boolean][] = [
      ['segment.create.start', (r) => data(r).name === 'obs-seg'],
      ['segment.create.end', (r) => data(r).uuid === segId],
      ['host.update.start', (r) => data(r).uuid === hosts['node-b'] && data(r).control_attributes === 'updated'],
      ['host.update.end', (r) => data(r).uuid === hosts['node-b'] && data(r).control_attributes === 'updated'],
      ['notification.create.start', (r) => data(r).source_host_uuid === hosts['node-a'] && data(r).type === 'COMPUTE_HOST'],
      ['notification.create.end', (r) => data(r).notification_uuid === downId && data(r).status === 'new'],
      ['notification.process.start', (r) => data(r).notification_uuid === downId && data(r).status === 'new'],
      ['notification.process.end', (r) => data(r).notification_uuid === downId && data(r).status === 'running'],
    ];
    for (const [type, match] of wanted) {
      const r = await until(`${type} at the listener`, () => got.find((g) => g.event_type === type && match(g)));
      assert.deepEqual(notificationDifferences(r), [], `${type} as received`);
      assert.equal(r.publisher_id.slice(r.publisher_id.indexOf(':') + 1), hostname());
    }
    // The host update's embedded segment, and the context oslo.messaging unpacked from the _context_ keys.
    const upd = got.find((g) => g.event_type === 'host.update.end')!;
    assert.equal((data(upd).failover_segment as { 'masakari_object.data': { uuid: string } })['masakari_object.data'].uuid, segId);
    assert.match(String(upd.context.request_id), /^req-/);
    assert.equal(notificationDeliveryStats().dropped, 0);

    // 2. Broker gone: requests and a recovery go on; beyond the buffer (20) notifications are dropped and counted.
    await lab.stop();
    await until('the sink to notice the broker is gone', () => !notificationDeliveryStats().connected);
    const before = got.length;
    for (let i = 0; i < 15; i++) {
      assert.equal((await call('POST', '/segments', { segment: { name: `obs-down-${i}`, recovery_method: 'auto', service_type: 'COMPUTE' } })).status, 201);
    }
    const vm = await notify('VM', 'node-b', { event: 'LIFECYCLE', instance_uuid: U1, vir_domain_event: 'STOPPED_FAILED' });
    assert.equal(vm.status, 202);
    assert.equal(await finalStatus(String(vm.body.notification!.notification_uuid)), 'finished');
    const stats = notificationDeliveryStats();
    assert.ok(stats.dropped >= 10, `at least 34 notifications for a buffer of 20: ${JSON.stringify(stats)}`);
    assert.ok(stats.buffered <= 20, JSON.stringify(stats));
    assert.equal(got.length, before, 'nothing arrived while the broker was down');

    // 3. Broker back on the same port: the sink reconnects and new notifications arrive (the buffered ones too).
    await lab.start();
    await until('the sink to reconnect', () => notificationDeliveryStats().connected);
    assert.equal((await call('POST', '/segments', { segment: { name: 'obs-after', recovery_method: 'auto', service_type: 'COMPUTE' } })).status, 201);
    const after = await until('a notification sent after the broker came back', () =>
      got.find((g) => g.event_type === 'segment.create.end' && data(g).name === 'obs-after'),
    );
    assert.deepEqual(notificationDifferences(after), []);
    // What the buffer kept is the newest: the last segments created during the outage arrive, the first ones do not.
    await until('buffered notifications from the outage', () => got.some((g) => g.event_type === 'segment.create.end' && data(g).name === 'obs-down-14'));
    assert.ok(!got.some((g) => data(g).name === 'obs-down-0'), 'the oldest were the ones dropped');
  },
);
