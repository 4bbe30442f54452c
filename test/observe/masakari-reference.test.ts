// Our versioned notifications against the real Masakari 14.0.2's (Debian python3-masakari, started as the Masakari
// peer lab does, test/labs/masakari-peer/run-masakari.py), both sent to one private RabbitMQ node and received by
// one real oslo.messaging listener. The same operations on each (a segment create, a host update, a notification
// that the engine processes), then every notification compared: priority, publisher_id, object names and versions,
// keys, JSON types, values, context keys (test/observe/samples.ts referenceDifferences).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import * as controller from '../../src/roles/controller.ts';
import { requireComponent } from '../support/components.ts';
import { freePort, RabbitLab, RABBITMQ_COMPONENT, rabbitmqAvailable } from '../labs/rabbitmq/lab.ts';
import { referenceDifferences, type Received } from './samples.ts';

const PYTHON = '/usr/bin/python3';
const LISTENER = join(import.meta.dirname, '..', 'labs', 'rabbitmq', 'oslo_listener.py');
const PEER = join(import.meta.dirname, '..', 'labs', 'masakari-peer');
const HOST_UUID = '5e1e7a0c-7d0a-4f55-9a55-1c4b1c6b0001';

const pythonHas = (mod: string) => existsSync(PYTHON) && spawnSync(PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;

const until = async <T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 90_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

const EVENTS = [
  'segment.create.start',
  'segment.create.end',
  'host.update.start',
  'host.update.end',
  'notification.create.start',
  'notification.create.end',
  'notification.process.start',
  'notification.process.end',
];
/** Values that must be equal too: both sides did the same thing with the same names. */
const SAME = [
  'name',
  'service_type',
  'description',
  'recovery_method',
  'enabled',
  'type',
  'reserved',
  'control_attributes',
  'on_maintenance',
  'payload',
  'status',
  'fault',
];

/** Masakari's API and engine on `lab`, notifications on (messagingv2); returns the API's endpoint and a stop. */
async function startMasakari(dir: string, lab: RabbitLab) {
  mkdirSync(join(dir, 'lock'), { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'masakari.conf');
  writeFileSync(
    conf,
    [
      '[DEFAULT]',
      'auth_strategy = noauth2',
      'masakari_api_listen = 127.0.0.1',
      `masakari_api_listen_port = ${port}`,
      'masakari_api_workers = 1',
      `api_paste_config = ${join(PEER, 'api-paste.ini')}`,
      `transport_url = ${lab.url}`,
      '[oslo_messaging_notifications]',
      'driver = messagingv2',
      '[keystone_authtoken]',
      'auth_type = password',
      '[database]',
      `connection = sqlite:///${join(dir, 'masakari.db')}`,
      '[taskflow]',
      `connection = sqlite:///${join(dir, 'taskflow.db')}`,
      '[oslo_concurrency]',
      `lock_path = ${join(dir, 'lock')}`,
      '',
    ].join('\n'),
  );
  execFileSync(
    PYTHON,
    ['-c', `import sys; from masakari.cmd.manage import main; sys.argv = ['masakari-manage', '--config-file', '${conf}', 'db', 'sync']; main()`],
    {
      timeout: 120_000,
      stdio: 'ignore',
    },
  );
  const procs: ChildProcess[] = [];
  const run = (what: string) => {
    const p = spawn(PYTHON, [join(PEER, 'run-masakari.py'), what, '--config-file', conf, '--log-file', join(dir, `${what}.log`)], {
      detached: true,
      stdio: 'ignore',
    });
    procs.push(p);
  };
  const stop = async () => {
    for (const p of procs) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise((r) => p.once('exit', r));
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        continue;
      }
      await exited;
    }
  };
  // The engine first, listening, so the API's cast of the notification is not lost (as the peer lab's start.sh).
  run('engine');
  await until('masakari-engine on its queue', async () =>
    /ha_engine\s+[1-9]/.test((await lab.ctl(['list_queues', '-p', lab.vhost, 'name', 'consumers'])).stdout),
  );
  run('api');
  await until('masakari-api', () =>
    fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    ),
  );
  return { endpoint: `http://127.0.0.1:${port}/v1`, stop };
}

/** The same operations, on either implementation; `addHost` puts the host in (Masakari's needs Nova for a create). */
async function operate(endpoint: string, addHost: (segmentUuid: string) => Promise<string>) {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(endpoint + path, {
      method,
      headers: { 'content-type': 'application/json', 'OpenStack-API-Version': 'instance-ha 1.2' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as Record<string, Record<string, unknown>> };
  };
  const seg = await call('POST', '/segments', { segment: { name: 'ref-seg', recovery_method: 'auto', service_type: 'COMPUTE' } });
  assert.equal(seg.status, 201);
  const segUuid = String(seg.body.segment!.uuid);
  const hostUuid = await addHost(segUuid);
  assert.equal((await call('PUT', `/segments/${segUuid}/hosts/${hostUuid}`, { host: { control_attributes: 'updated' } })).status, 200);
  const n = await call('POST', '/notifications', {
    notification: {
      type: 'PROCESS',
      hostname: 'ref-host',
      generated_time: '2026-12-07T07:00:00Z',
      payload: { event: 'STARTED', process_name: 'nova-compute' },
    },
  });
  assert.equal(n.status, 202);
}

test('our versioned notifications against the real Masakari 14.0.2 for the same operations', { timeout: 600_000 }, async (t) => {
  if (!requireComponent(t, RABBITMQ_COMPONENT, rabbitmqAvailable())) return;
  if (!requireComponent(t, 'oslo.messaging (Debian package python3-oslo.messaging)', pythonHas('oslo_messaging'))) return;
  if (!requireComponent(t, 'Masakari 14.0.2 (Debian package python3-masakari)', pythonHas('masakari.cmd.api'))) return;

  const lab = new RabbitLab();
  const cleanup: (() => Promise<void> | void)[] = [];
  t.after(async () => {
    for (const c of cleanup.reverse()) await c();
    await lab.destroy();
  });
  await lab.start();
  const got: Received[] = [];
  const listener = spawn(PYTHON, [LISTENER, lab.url], { stdio: ['pipe', 'pipe', 'ignore'] });
  cleanup.push(() => {
    listener.kill('SIGKILL');
  });
  let ready = false;
  createInterface({ input: listener.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as Received & { ready?: boolean };
    if (m.ready) ready = true;
    else got.push(m);
  });
  await until('the listener', () => ready);
  const dir = mkdtempSync(join(tmpdir(), 'obs-ref-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));

  // 1. Masakari.
  const masakari = await startMasakari(join(dir, 'masakari'), lab);
  cleanup.push(() => masakari.stop());
  await operate(masakari.endpoint, async (segmentUuid) => {
    const db = new Database(join(dir, 'masakari', 'masakari.db'));
    db.prepare(
      `INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance)
       VALUES (datetime('now'), 0, ?, 'ref-host', 0, 'COMPUTE', 'SSH', ?, 0)`,
    ).run(HOST_UUID, segmentUuid);
    db.close();
    return HOST_UUID;
  });
  await until("Masakari's notifications", () => EVENTS.every((e) => got.some((g) => g.event_type === e)));
  await masakari.stop();
  const ref = got.splice(0);

  // 2. Ours, with the same host uuid and names.
  const config = loadConfig({
    env: {},
    overrides: {
      data_dir: join(dir, 'ours'),
      api: { listen: '127.0.0.1:0' },
      database: { auto_migrate: true },
      controller: { compute_driver: 'none' },
      oslo_messaging_notifications: { driver: 'messagingv2', transport_url: lab.url },
    },
  });
  mkdirSync(join(dir, 'ours'));
  const ctl = await controller.start(config, silentLogger);
  cleanup.push(() => ctl.stop());
  await operate(`http://127.0.0.1:${ctl.port}/v1`, async (segmentUuid) => {
    const h = await ctl.store.createHost(
      segmentUuid,
      { name: 'ref-host', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false },
      new Date(),
    );
    return h.uuid;
  });
  await until('our notifications', () => EVENTS.every((e) => got.some((g) => g.event_type === e)));

  for (const type of EVENTS) {
    const ours = got.filter((g) => g.event_type === type);
    const theirs = ref.filter((g) => g.event_type === type);
    assert.equal(ours.length, theirs.length, `${type}: as many as Masakari's`);
    assert.deepEqual(referenceDifferences(ours[0]!, theirs[0]!, SAME), [], `${type}: ours vs Masakari's`);
  }
  // Nothing Masakari sent for these operations is missing from ours, and nothing more.
  assert.deepEqual(got.map((g) => g.event_type).sort(), ref.map((g) => g.event_type).sort());
});
