// The what-if planner on libvirt, end to end: three hosts on libvirt's test driver (each a test:///FILE node with
// its own CPUs and memory), the controller role in this process with the libvirt compute driver, its API on a real
// socket, and `masakari whatif` run as a child process against it. Then the host really fails, the engine recovers
// it, and the domains must be where the plan said; the one that fits nowhere must still be on the dead host.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { planHostLoss, segmentSurvivesAnyHostLoss, type WhatIfPlan } from '../../src/core/protection/whatif/index.ts';
import { libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import { LibvirtComputeDriver, LibvirtStateStore } from '../../src/drivers/compute/libvirt/index.ts';
import { start as startController } from '../../src/roles/controller.ts';
import { requireComponent } from '../support/components.ts';
import { runCli } from '../support/cli.ts';

const NS = 'http://masakari.dev/xmlns/libvirt/1.0';

const node = (cpus: number, memMiB: number, domains: string[] = []) =>
  `<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>${cpus}</cores><threads>1</threads><active>${cpus}</active><mhz>2000</mhz>` +
  `<model>x86_64</model></cpu><memory>${memMiB * 1024}</memory>${domains.join('')}</node>`;

const domain = (name: string, uuid: string, vcpus: number, memMiB: number) =>
  `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>${memMiB}</memory><vcpu>${vcpus}</vcpu>` +
  `<os><type>hvm</type></os><metadata><masakari:ha xmlns:masakari='${NS}' enabled='true'/></metadata></domain>`;

const D1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const D2 = 'aaaaaaaa-0000-4000-8000-000000000002';
const D3 = 'aaaaaaaa-0000-4000-8000-000000000003';

test('libvirt: node info and domain sizes give each host its free room', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;
  const dir = mkdtempSync(join(tmpdir(), 'wif-lv-'));
  const file = join(dir, 'n.xml');
  writeFileSync(file, node(4, 4096, [domain('small', D1, 1, 1024), domain('mid', D2, 2, 512)]));
  const driver = new LibvirtComputeDriver({
    hosts: { n: `test://${file}` },
    metadataNamespace: NS,
    haKeys: ['HA_Enabled'],
    haEnabledDefault: false,
    state: new LibvirtStateStore(join(dir, 'state.json')),
    connectTimeoutMs: 5000,
    retryUnreachableMs: 0,
    inventoryIntervalMs: 0,
    log: silentLogger,
    allocation: { cpuAllocationRatio: 2, ramAllocationRatio: 1.5, reservedHostMemoryMb: 1024 },
  });
  try {
    const cap = await driver.hostCapacity('n');
    assert.deepEqual(cap.total, { vcpus: 8, ramMb: Math.floor((4096 - 1024) * 1.5), diskGb: null });
    assert.deepEqual(cap.used, { vcpus: 3, ramMb: 1536, diskGb: null });
    const servers = await driver.listServersOnHost('n');
    assert.deepEqual(servers.find((s) => s.id === D2)!.resources, { vcpus: 2, ramMb: 512, diskGb: null });
  } finally {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('libvirt: the plan (API and CLI) names targets and shortfall, and the real recovery does exactly that', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;
  const dir = mkdtempSync(join(tmpdir(), 'wif-lv-'));
  const files = { 'node-a': join(dir, 'a.xml'), 'node-b': join(dir, 'b.xml'), 'node-c': join(dir, 'c.xml') };
  // node-a carries 4 GiB; node-b has 2 GiB free, node-c 1.5 GiB: one of the three domains cannot be placed.
  writeFileSync(files['node-a'], node(4, 8192, [domain('d1', D1, 1, 1024), domain('d2', D2, 1, 1024), domain('d3', D3, 2, 2048)]));
  writeFileSync(files['node-b'], node(2, 2048));
  writeFileSync(files['node-c'], node(2, 1536));
  const hosts = Object.fromEntries(Object.entries(files).map(([h, f]) => [h, `test://${f}`]));
  const driver = new LibvirtComputeDriver({
    hosts,
    metadataNamespace: NS,
    haKeys: ['HA_Enabled'],
    haEnabledDefault: false,
    state: new LibvirtStateStore(join(dir, 'state.json')),
    connectTimeoutMs: 5000,
    retryUnreachableMs: 0,
    inventoryIntervalMs: 0,
    log: silentLogger,
    allocation: { cpuAllocationRatio: 1, ramAllocationRatio: 1, reservedHostMemoryMb: 0 },
  });
  const config = parseConfig(
    {
      data_dir: dir,
      database: { url: `sqlite:${join(dir, 'db.sqlite')}`, auto_migrate: true },
      api: { listen: '127.0.0.1:0' },
      controller: { compute_driver: 'libvirt' },
      host_failure: { fencing_required: false },
      engine: { verify_interval: 0.2, wait_period_after_evacuation: 10, host_failure_recovery_threads: 1 },
    },
    'test',
  );
  const ctl = await startController(config, silentLogger, { compute: driver });
  const base = `http://127.0.0.1:${ctl.port}/v1`;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', 'OpenStack-API-Version': 'instance-ha 1.1' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json().catch(() => null)) as any };
  };
  try {
    const seg = await api('POST', '/segments', { segment: { name: 'lv', recovery_method: 'auto', service_type: 'COMPUTE' } });
    assert.equal(seg.status, 201);
    for (const h of Object.keys(files)) {
      const r = await api('POST', `/segments/${seg.body.segment.uuid}/hosts`, { host: { name: h, type: 'COMPUTE', control_attributes: 'SSH' } });
      assert.equal(r.status, 201);
    }

    // The API's errors: missing lose, unknown host.
    const missing = await api('GET', '/x-masakari/whatif');
    assert.equal(missing.status, 400);
    assert.match(missing.body.badRequest.message, /lose/);
    const unknown = await api('GET', '/x-masakari/whatif?lose=node-z');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.itemNotFound.code, 404);

    // The CLI, as an operator runs it from another machine.
    const json = await runCli(['whatif', '--lose', 'node-a', '--json', '--endpoint', base], { env: { MASAKARI_CONFIG: '' } });
    assert.equal(json.code, 2, `exit 2: an instance would not be recovered\n${json.stderr}`);
    const plan = JSON.parse(json.stdout) as WhatIfPlan;
    assert.equal(plan.host, 'node-a');
    assert.equal(plan.segment, 'lv');
    const recovered = plan.instances.filter((i) => i.recovered);
    const lost = plan.instances.filter((i) => !i.recovered);
    assert.equal(recovered.length, 2, JSON.stringify(plan.instances));
    assert.equal(lost.length, 1);
    assert.match(lost[0]!.reason!, /^no capacity/);
    const sizes: Record<string, number> = { [D1]: 1024, [D2]: 1024, [D3]: 2048 };
    assert.equal(plan.shortfall?.ram_mb, sizes[lost[0]!.id]);
    const before = Object.fromEntries(plan.capacity.map((c) => [c.host, c.before.ram_mb]));
    assert.deepEqual(before, { 'node-b': 2048, 'node-c': 1536 });

    const human = await runCli(['whatif', '--lose', 'node-a', '--endpoint', base], { env: { MASAKARI_CONFIG: '' } });
    assert.equal(human.code, 2);
    assert.match(human.stdout, /If node-a failed now \(segment lv, recovery method auto/);
    assert.match(human.stdout, /NO\s+-\s+no capacity/);
    assert.match(human.stdout, /Shortfall: \d+ vCPU, \d+ MB RAM/);

    // N+1 over the segment: losing node-a breaks it.
    const survival = await segmentSurvivesAnyHostLoss(
      { store: ctl.store, compute: driver, config, fencingConfigured: false },
      (await ctl.store.getSegment(seg.body.segment.uuid))!,
    );
    assert.equal(survival.n_plus_one, false);
    assert.deepEqual(survival.breaking_hosts, ['node-a']);

    // Now node-a really dies, and the engine recovers it.
    rmSync(files['node-a']);
    driver.reconnect('node-a');
    const n = await api('POST', '/notifications', {
      notification: {
        type: 'COMPUTE_HOST',
        hostname: 'node-a',
        generated_time: new Date().toISOString(),
        payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
      },
    });
    assert.equal(n.status, 202, JSON.stringify(n.body));
    let status = '';
    for (let i = 0; i < 300 && !['finished', 'error', 'failed', 'ignored'].includes(status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await api('GET', `/notifications/${n.body.notification.notification_uuid}`)).body.notification.status;
    }
    assert.equal(status, 'error', 'one instance found no room, so the recovery ends in error');
    for (const i of recovered) {
      const where = (await driver.getServer(i.id)).host;
      assert.equal(where, i.candidates[0], `${i.name} planned on ${i.candidates[0]}, went to ${where}`);
    }
    assert.equal((await driver.getServer(lost[0]!.id)).host, 'node-a', 'the instance without room stays on the dead host');
  } finally {
    await ctl.stop();
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('libvirt: planHostLoss in process agrees with the API for a host with nothing on it', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;
  // Kept small: the full path is above; this pins that an empty host plans to nothing and zero makespan.
  const dir = mkdtempSync(join(tmpdir(), 'wif-lv-'));
  writeFileSync(join(dir, 'x.xml'), node(2, 2048));
  writeFileSync(join(dir, 'y.xml'), node(2, 2048));
  const driver = new LibvirtComputeDriver({
    hosts: { x: `test://${join(dir, 'x.xml')}`, y: `test://${join(dir, 'y.xml')}` },
    metadataNamespace: NS,
    haKeys: ['HA_Enabled'],
    haEnabledDefault: true,
    state: new LibvirtStateStore(join(dir, 'state.json')),
    connectTimeoutMs: 5000,
    retryUnreachableMs: 0,
    inventoryIntervalMs: 0,
    log: silentLogger,
  });
  const { openSqliteStore } = await import('../../src/core/store/sqlite/index.ts');
  const store = openSqliteStore({ path: ':memory:' });
  try {
    const seg = await store.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
    for (const h of ['x', 'y'])
      await store.createHost(seg.uuid, { name: h, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date());
    const p = await planHostLoss({ store, compute: driver, config: parseConfig({}, 't'), fencingConfigured: true }, 'x');
    assert.deepEqual(p.instances, []);
    assert.equal(p.estimated_makespan_seconds, 0);
    // Default allocation: Nova's 4 vCPUs per CPU, 512 MiB kept for the host.
    assert.deepEqual(p.capacity, [{ host: 'y', before: { vcpus: 8, ram_mb: 1536, disk_gb: null }, after: { vcpus: 8, ram_mb: 1536, disk_gb: null } }]);
  } finally {
    await store.close();
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
