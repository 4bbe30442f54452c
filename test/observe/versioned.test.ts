// Masakari's versioned notifications as we build them (src/core/observe/versioned.ts), without a broker: the bus
// events of real API calls and a real engine run (controller role, SQLite, no compute driver) turned into
// notifications, each compared field by field with Masakari's sample of its event type; the oslo.messaging v2
// envelope; the config checks. The broker and a real oslo.messaging listener: amqp.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { BusEvent } from '../../src/core/observe/bus.ts';
import { envelope, pythonTimestamp, toVersionedNotification, type VersionedNotification } from '../../src/core/observe/versioned.ts';
import { parseTransportUrl } from '../../src/core/observe/transport-url.ts';
import { checkSemantics } from '../../src/core/config/semantic.ts';
import * as controller from '../../src/roles/controller.ts';
import { notificationDifferences, SAMPLE_FILE } from './samples.ts';
import { readFileSync } from 'node:fs';
import { EVENT_TYPES } from '../../src/core/observe/events.ts';
import { checkedLogger } from '../support/checked-log.ts';

async function startController(t: import('node:test').TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'obs-ver-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({
    env: {},
    overrides: { data_dir: dir, api: { listen: '127.0.0.1:0' }, database: { auto_migrate: true }, controller: { compute_driver: 'none' } },
  });
  const ctl = await controller.start(config, silentLogger);
  t.after(() => ctl.stop());
  const events: BusEvent[] = [];
  ctl.bus.subscribe((e) => events.push(e));
  const base = `http://127.0.0.1:${ctl.port}/v1`;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', 'OpenStack-API-Version': 'instance-ha 1.3' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, Record<string, unknown>> };
  };
  return { ctl, events, call };
}

const until = async (what: string, f: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** The notification as an oslo.messaging listener would get it: through our envelope and back. */
function received(e: BusEvent): VersionedNotification & { metadata: Record<string, unknown>; context: Record<string, unknown> } {
  const n = toVersionedNotification(e, 'obs-host')!;
  const env = JSON.parse(envelope(n, e.payload.context as never, e.at)) as Record<string, string>;
  assert.equal(env['oslo.version'], '2.0');
  assert.deepEqual(Object.keys(env).sort(), ['oslo.message', 'oslo.version']);
  const m = JSON.parse(env['oslo.message']!) as Record<string, unknown>;
  const context = Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith('_context_')));
  return { ...(m as unknown as VersionedNotification), metadata: { message_id: m.message_id, timestamp: m.timestamp }, context };
}

test('every Masakari event of segment, host and notification API calls and of processing matches its sample field by field', async (t) => {
  const { events, call } = await startController(t);
  const seg = await call('POST', '/segments', { segment: { name: 'obs-seg', recovery_method: 'auto', service_type: 'COMPUTE' } });
  assert.equal(seg.status, 201);
  const segId = String(seg.body.segment!.uuid);
  assert.equal((await call('PUT', `/segments/${segId}`, { segment: { description: 'd' } })).status, 200);
  const host = await call('POST', `/segments/${segId}/hosts`, { host: { name: 'cmp1', type: 'COMPUTE', control_attributes: 'TEST' } });
  assert.equal(host.status, 201);
  const hostId = String(host.body.host!.uuid);
  assert.equal((await call('PUT', `/segments/${segId}/hosts/${hostId}`, { host: { reserved: true } })).status, 200);
  // A process that started again is settled at once (start + end); a VM event that needs no recovery too, but Masakari's
  // handler returns before sending its end (start only); a host failure without a compute driver and without fencing
  // ends in error (start + error).
  const started = await call('POST', '/notifications', {
    notification: { type: 'PROCESS', hostname: 'cmp1', generated_time: new Date().toISOString(), payload: { event: 'STARTED', process_name: 'nova-compute' } },
  });
  assert.equal(started.status, 202);
  await until('the process notification to settle', () => events.some((e) => e.type === 'notification.process.end'));
  const vm = await call('POST', '/notifications', {
    notification: {
      type: 'VM',
      hostname: 'cmp1',
      generated_time: new Date().toISOString(),
      payload: { event: 'LIFECYCLE', instance_uuid: '6f1b1e3a-6c1f-4b7e-9d7e-0f6c2b9a1d11', vir_domain_event: 'STARTED_BOOTED' },
    },
  });
  assert.equal(vm.status, 202);
  const hostDown = await call('POST', '/notifications', {
    notification: {
      type: 'COMPUTE_HOST',
      hostname: 'cmp1',
      generated_time: new Date().toISOString(),
      payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
    },
  });
  assert.equal(hostDown.status, 202);
  const vmId = String(vm.body.notification!.notification_uuid);
  await until('the host failure to end', () => events.some((e) => e.type === 'notification.process.error'));
  // Processing is over, the segment is no longer in use: delete host and segment.
  await until('the host notification to settle', () => events.some((e) => e.type === 'notification.status' && e.payload.status === 'error'));
  assert.equal((await call('PUT', `/segments/${segId}/hosts/${hostId}`, { host: { on_maintenance: false } })).status === 409, true, 'in use while error');

  for (const e of events) assert.ok((EVENT_TYPES as readonly string[]).includes(e.type), `${e.type} is listed in EVENT_TYPES`);
  const versioned = events.filter((e) => toVersionedNotification(e, 'h'));
  const about = (uuid: string) =>
    versioned.filter((e) => (e.payload.notification as { notification_uuid?: string } | undefined)?.notification_uuid === uuid).map((e) => e.type);
  assert.deepEqual(about(vmId), ['notification.create.end', 'notification.process.start'], 'a VM event needing no recovery: no process.end');
  const startedId = String(started.body.notification!.notification_uuid);
  assert.deepEqual(about(startedId), ['notification.create.end', 'notification.process.start', 'notification.process.end']);
  const startedEnd = versioned.find((e) => e.type === 'notification.process.end')!;
  assert.equal((startedEnd.payload.notification as { status: string }).status, 'running', 'as Masakari: the end is sent before the final status');
  const types = versioned.map((e) => e.type);
  for (const expected of [
    'segment.create.start',
    'segment.create.end',
    'segment.update.start',
    'segment.update.end',
    'host.create.start',
    'host.create.end',
    'host.update.start',
    'host.update.end',
    'notification.create.start',
    'notification.create.end',
    'notification.process.start',
    'notification.process.end',
    'notification.process.error',
  ]) {
    assert.ok(types.includes(expected), `${expected} was published (got ${types.join(', ')})`);
  }
  for (const e of versioned) {
    const n = received(e);
    assert.deepEqual(notificationDifferences(n), [], `${e.type} differs from ${SAMPLE_FILE[e.type]}`);
    assert.equal(n.event_type, e.type);
    assert.equal(n.publisher_id, `${e.type.startsWith('notification.process') ? 'masakari-engine' : 'masakari-api'}:obs-host`);
  }
  // The values, not only the keys: what the API answered is what the notification says.
  const segEnd = received(versioned.find((e) => e.type === 'segment.create.end')!);
  const segData = segEnd.payload['masakari_object.data'];
  assert.equal(segData.uuid, segId);
  assert.equal(segData.name, 'obs-seg');
  assert.equal(segData.id, seg.body.segment!.id);
  const hostEnd = received(versioned.find((e) => e.type === 'host.update.end')!);
  assert.equal(hostEnd.payload['masakari_object.data'].reserved, true);
  // Masakari's update.start already shows the change (its object is changed, then saved: start, write, end).
  assert.equal(received(versioned.find((e) => e.type === 'host.update.start')!).payload['masakari_object.data'].reserved, true);
  const emb = hostEnd.payload['masakari_object.data'].failover_segment as Record<string, Record<string, unknown>>;
  assert.equal(emb['masakari_object.data']!.uuid, segId);
  assert.match(String(emb['masakari_object.data']!.created_at), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  const err = received(versioned.find((e) => e.type === 'notification.process.error')!);
  assert.equal(err.priority, 'ERROR');
  assert.equal(err.payload['masakari_object.data'].notification_uuid, hostDown.body.notification!.notification_uuid);
  assert.equal(err.payload['masakari_object.data'].status, 'running', 'Masakari sends process.error before the final status is written');
  const fault = err.payload['masakari_object.data'].fault as Record<string, Record<string, unknown>>;
  assert.equal(fault['masakari_object.data']!.function_name, '_handle_notification_type_host');
  assert.ok(String(fault['masakari_object.data']!.exception_message).length > 0);
  // The API events carry the caller's request in the context keys, as oslo.messaging packs them.
  assert.match(String(segEnd.context._context_request_id), /^req-/);
  assert.equal(segEnd.context._context_is_admin, true);
  assert.equal(segEnd.context._context_auth_token, null, 'never a token on the bus');
});

test('segment and host delete: start with the row, end without its id, as Masakari sends them', async (t) => {
  const { events, call } = await startController(t);
  const seg = await call('POST', '/segments', { segment: { name: 'obs-del', recovery_method: 'auto', service_type: 'COMPUTE' } });
  const segId = String(seg.body.segment!.uuid);
  const host = await call('POST', `/segments/${segId}/hosts`, { host: { name: 'cmp9', type: 'COMPUTE', control_attributes: 'TEST' } });
  assert.equal((await call('DELETE', `/segments/${segId}/hosts/${String(host.body.host!.uuid)}`)).status, 204);
  assert.equal((await call('DELETE', `/segments/${segId}`)).status, 204);
  for (const type of ['host.delete.start', 'host.delete.end', 'segment.delete.start', 'segment.delete.end']) {
    const e = events.find((x) => x.type === type);
    assert.ok(e, type);
    assert.deepEqual(notificationDifferences(received(e)), [], type);
  }
});

test('a refused request publishes nothing', async (t) => {
  const { events, call } = await startController(t);
  assert.equal((await call('POST', '/segments', { segment: { name: 'x' } })).status, 400);
  assert.equal(
    (
      await call('POST', '/notifications', {
        notification: {
          type: 'VM',
          hostname: 'nope',
          generated_time: new Date().toISOString(),
          payload: { event: 'LIFECYCLE', instance_uuid: '6f1b1e3a-6c1f-4b7e-9d7e-0f6c2b9a1d11', vir_domain_event: 'STOPPED_FAILED' },
        },
      })
    ).status,
    400,
  );
  assert.deepEqual(
    events.map((e) => e.type),
    [],
  );
});

test("timestamps as Python's str(datetime), transport URLs as oslo.messaging reads them", () => {
  assert.equal(pythonTimestamp(new Date('2018-11-27T13:09:30.737Z')), '2018-11-27 13:09:30.737000');
  assert.equal(pythonTimestamp(new Date('2018-11-27T13:09:30.000Z')), '2018-11-27 13:09:30');
  assert.deepEqual(parseTransportUrl('rabbit://u:p%40ss@h1:5673,v:q@h2/vh'), {
    scheme: 'rabbit',
    hosts: [
      { host: 'h1', port: 5673, user: 'u', password: 'p@ss' },
      { host: 'h2', port: 5672, user: 'v', password: 'q' },
    ],
    vhost: 'vh',
  });
  assert.equal(parseTransportUrl('rabbit://guest:guest@[::1]:5672/').vhost, '/');
  assert.throws(() => parseTransportUrl('kafka://h:9092/'), /not supported/);
  assert.throws(() => parseTransportUrl('rabbit:///'), /no broker host/);
});

test('config: messagingv2 needs a transport_url; a bad one names the key; defaults are noop and versioned_notifications', () => {
  const d = loadConfig({ env: {}, overrides: {} });
  assert.equal(d.oslo_messaging_notifications.driver, 'noop');
  assert.deepEqual(d.oslo_messaging_notifications.topics, ['versioned_notifications']);
  assert.equal(d.events.history_size, 10000);
  assert.throws(
    () => checkSemantics(loadConfig({ env: {}, overrides: { oslo_messaging_notifications: { driver: 'messagingv2' } } }), 'test'),
    (e: unknown) => e instanceof ConfigError && /oslo_messaging_notifications\.transport_url/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ env: {}, overrides: { oslo_messaging_notifications: { driver: 'messagingv2', transport_url: 'rabbit://u:secret@h:99999/' } } }),
    (e: unknown) => e instanceof ConfigError && /oslo_messaging_notifications\.transport_url/.test(e.message) && !e.message.includes('secret'),
  );
});

test('docs/observability.md describes every event type', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'observability.md'), 'utf8');
  const missing = EVENT_TYPES.filter((type) => {
    const [a, b] = type.split('.');
    // "segment.create.start / .end" rows name the pair once; our own events are named in full.
    return !doc.includes(`\`${type}\``) && !doc.includes(`\`${a}.${b}.start\` / \`.end\``) && !doc.includes(`\`${a}.${b}.*\``);
  });
  assert.deepEqual(missing, []);
});

test('driver log: each notification is written to our log (component notifier), nothing else is needed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'obs-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const checked = checkedLogger('info');
  const ctl = await controller.start(
    loadConfig({
      env: {},
      overrides: {
        data_dir: dir,
        api: { listen: '127.0.0.1:0' },
        database: { auto_migrate: true },
        controller: { compute_driver: 'none' },
        oslo_messaging_notifications: { driver: 'log' },
      },
    }),
    checked.log,
  );
  t.after(() => ctl.stop());
  const r = await fetch(`http://127.0.0.1:${ctl.port}/v1/segments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ segment: { name: 'logged', recovery_method: 'auto', service_type: 'COMPUTE' } }),
  });
  assert.equal(r.status, 201);
  const lines = checked.raw.map((l) => JSON.parse(l) as { component?: string; msg: string; notification?: VersionedNotification });
  const logged = lines.filter((l) => l.component === 'notifier');
  assert.deepEqual(
    logged.map((l) => l.msg),
    ['versioned notification segment.create.start', 'versioned notification segment.create.end'],
  );
  assert.equal(logged[1]!.notification!.payload['masakari_object.data'].name, 'logged');
  assert.deepEqual(checked.problems, []);
});
