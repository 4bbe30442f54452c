// SIGTERM with a backend gone: every role exits within shutdown_timeout whatever the backend does, no outbox entry
// is lost and no notification stays claimed. Real processes stopped with SIGSTOP (frozen: connections are accepted
// by the kernel and never answered, the worst case for a client) or SIGKILL:
//   - compute role, the controller frozen while a delivery is in flight: the entry is still pending in the outbox;
//   - compute role, libvirtd frozen (libvirt lab);
//   - controller, MariaDB frozen in the middle of a workflow: exits at the bound; once MariaDB is back, the restarted
//     controller takes the notification back and ends it, leaving it unclaimed;
//   - controller, Keystone frozen with a token validation in flight;
//   - controller, Keystone/Nova frozen while the engine waits for them: the workflow is aborted and its claim released.
// Keystone and Nova are stood in for by a Python HTTP server that is then frozen: at the TCP level a frozen Keystone
// or Nova behaves exactly like that (the OpenStack lab is too heavy to freeze per test; docs/packaging.md says so).
// --role=all with libvirtd gone: test/e2e/allinone-shutdown.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startCli, waitFor } from '../support/cli.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { MariaDbLab, MARIADB_COMPONENT, mariadbAvailable } from '../labs/mariadb/lab.ts';
import { LibvirtLab, LIBVIRT_LAB_COMPONENT, libvirtLabAvailable } from '../labs/libvirt/lab.ts';
import type { TestContext } from 'node:test';

const BOUND_S = 4;
/** Slack over the bound for a busy 2-core machine: the process must be gone well before systemd's TimeoutStopSec. */
const SLACK_MS = 6000;
const GATE_TASK = fileURLToPath(new URL('./fixtures/gate-task.ts', import.meta.url));
const INSTANCE = '3c0d8a4e-7b61-4f0e-9c9a-1e2d3f4a5b6c';

type Cli = ReturnType<typeof startCli>;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function tmp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real HTTP server process (Python), answering until frozen with SIGSTOP. Stands in for Keystone or Nova. */
async function frozenHttpServer(t: TestContext, dir: string): Promise<string> {
  const port = await freePort();
  const proc = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port)], { cwd: dir, stdio: 'ignore' });
  t.after(() => {
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(url)).status > 0 ? true : undefined), 15_000, 'the stand-in HTTP server');
  proc.kill('SIGSTOP');
  return url;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (c) => resolve(c))));
}

/** SIGTERM, then the time to exit; fails past the bound (plus slack). */
async function sigtermWithinBound(child: Cli, what: string): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_S * 1000 + SLACK_MS + 10_000);
  const code = await exited(child);
  clearTimeout(timer);
  const ms = Date.now() - t0;
  assert.ok(ms <= BOUND_S * 1000 + SLACK_MS, `${what}: exited ${ms} ms after SIGTERM (bound ${BOUND_S} s)\n${child.output()}`);
  assert.ok(code === 0 || code === 1, `${what}: exit code ${code}\n${child.output()}`);
  if (code === 1) assert.match(child.output(), /did not stop within shutdown_timeout|did not stop cleanly|error while stopping/, child.output());
  return { code, ms };
}

const common = { MASAKARI_SHUTDOWN_TIMEOUT: String(BOUND_S), MASAKARI_LOG__LEVEL: 'debug' };

async function api(port: number, path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, Record<string, unknown>> }> {
  const r = await fetch(`http://127.0.0.1:${port}/v1${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, Record<string, unknown>> };
}

/** A segment, a host and a VM notification through the API; returns the notification's uuid. */
async function notify(port: number, host: string): Promise<string> {
  await segmentAndHost(port, host);
  return notification(port, host);
}

async function segmentAndHost(port: number, host: string): Promise<void> {
  const seg = await api(port, '/segments', {
    method: 'POST',
    body: JSON.stringify({ segment: { name: `${host}-seg`, recovery_method: 'auto', service_type: 'COMPUTE' } }),
  });
  assert.equal(seg.status, 201, JSON.stringify(seg.body));
  const h = await api(port, `/segments/${String(seg.body.segment!.uuid)}/hosts`, {
    method: 'POST',
    body: JSON.stringify({ host: { name: host, type: 'COMPUTE', control_attributes: 'x' } }),
  });
  assert.equal(h.status, 201, JSON.stringify(h.body));
}

async function notification(port: number, host: string): Promise<string> {
  const n = await api(port, '/notifications', {
    method: 'POST',
    body: JSON.stringify({
      notification: {
        type: 'VM',
        hostname: host,
        generated_time: new Date().toISOString(),
        payload: { event: 'LIFECYCLE', instance_uuid: INSTANCE, vir_domain_event: 'STOPPED_FAILED' },
      },
    }),
  });
  assert.equal(n.status, 202, JSON.stringify(n.body));
  return String(n.body.notification!.notification_uuid);
}

describe('SIGTERM with a backend gone: every role exits within shutdown_timeout', { timeout: 600_000 }, () => {
  it('compute role, controller frozen with a delivery in flight: exits in time, the entry stays pending in the outbox', async (t) => {
    if (!requireComponent(t, 'python3', haveCommand('python3'))) return;
    const dir = tmp(t);
    const controller = await frozenHttpServer(t, dir);
    const list = join(dir, 'process_list.yaml');
    writeFileSync(list, `- process_name: /nonexistent/sdb-never-running-daemon\n  restart_command: /bin/false\n  run_as_root: False\n`);
    const config = join(dir, 'masakari.yaml');
    writeFileSync(
      config,
      `data_dir: ${join(dir, 'data')}
compute:
  hostname: sdb-node1
  controller: { endpoint: "${controller}/v1", timeout_seconds: 120 }
  process_monitor: { enabled: true, process_list_path: "${list}", check_interval: 0.2, restart_retries: 1, restart_interval: 0.05 }
`,
    );
    const child = startCli(['--role=compute', '--config', config], common);
    t.after(() => child.kill('SIGKILL'));
    const outbox = join(dir, 'data', 'outbox.sqlite');
    const pending = () => {
      if (!existsSync(outbox)) return 0;
      const db = new Database(outbox, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare(`SELECT count(*) AS n FROM outbox WHERE state = 'pending'`).get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    await waitFor(async () => (pending() > 0 ? true : undefined), 60_000, `an outbox entry\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 500)); // the first delivery attempt is now waiting on the frozen controller
    const { code, ms } = await sigtermWithinBound(child, 'compute, controller frozen');
    t.diagnostic(`exited ${ms} ms after SIGTERM with code ${code}`);
    assert.equal(code, 0, `a clean stop: the delivery in flight is aborted after the outbox's grace\n${child.output()}`);
    assert.ok(pending() >= 1, 'the undelivered notification is still in the outbox');
  });

  it('compute role, libvirtd frozen (instance monitor): exits in time', async (t) => {
    if (!requireComponent(t, LIBVIRT_LAB_COMPONENT, libvirtLabAvailable())) return;
    const dir = tmp(t);
    const lab = await LibvirtLab.start();
    t.after(async () => {
      const pid = lab.libvirtdPid();
      if (pid) process.kill(pid, 'SIGCONT');
      await lab.stop();
    });
    const config = join(dir, 'masakari.yaml');
    writeFileSync(
      config,
      `data_dir: ${join(dir, 'data')}
libvirt: { connection_uri: "${lab.uri}", keepalive_interval: 1, keepalive_count: 2, instance_monitor: { enabled: true } }
compute: { hostname: sdb-node2, controller: { endpoint: "http://127.0.0.1:9/v1" } }
`,
    );
    const child = startCli(['--role=compute', '--config', config], common);
    t.after(() => child.kill('SIGKILL'));
    await waitFor(async () => (child.output().includes('compute role running') ? true : undefined), 60_000, `the compute role\n${child.output()}`);
    process.kill(lab.libvirtdPid()!, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 1000));
    const { code, ms } = await sigtermWithinBound(child, 'compute, libvirtd frozen');
    t.diagnostic(`exited ${ms} ms after SIGTERM with code ${code}`);
  });

  it('controller, MariaDB frozen mid-workflow: exits in time; the restarted controller takes the notification back and leaves it unclaimed', async (t) => {
    if (!requireComponent(t, MARIADB_COMPONENT, mariadbAvailable())) return;
    const dir = tmp(t);
    const db = await MariaDbLab.start();
    t.after(async () => {
      const pid = db.serverPid();
      if (pid) process.kill(pid, 'SIGCONT');
      await db.stop();
    });
    const url = await db.createDatabase('sdb');
    const dbName = new URL(url).pathname.slice(1);
    const config = join(dir, 'masakari.yaml');
    const gate = join(dir, 'gate-open');
    writeFileSync(
      config,
      `data_dir: ${dir}
database: { url: "${url}", auto_migrate: true }
controller: { owner_id: sdb-controller }
taskflow_driver_recovery_flows:
  custom_task_modules: { test_gate_task: "${GATE_TASK}" }
  instance_failure_recovery_tasks: { pre: [test_gate_task], main: [], post: [] }
`,
    );
    const port = await freePort();
    const env = { ...common, E2E_RECOVERY_GATE_FILE: gate };
    const first = startCli(['--role=controller', '--config', config, '--listen', `127.0.0.1:${port}`], env);
    t.after(() => first.kill('SIGKILL'));
    await waitFor(async () => (first.output().includes('controller started') ? true : undefined), 90_000, `the controller\n${first.output()}`);
    const uuid = await notify(port, 'sdb-node3');
    const claimed = async () =>
      (
        (await db.adminQuery(`SELECT status, claimed_by FROM \`${dbName}\`.notifications WHERE uuid = ?`, [uuid])) as {
          status: string;
          claimed_by: string | null;
        }[]
      )[0];
    await waitFor(async () => ((await claimed())?.claimed_by === 'sdb-controller' ? true : undefined), 30_000, 'the claim');
    process.kill(db.serverPid()!, 'SIGSTOP');
    const { code, ms } = await sigtermWithinBound(first, 'controller, MariaDB frozen');
    t.diagnostic(`exited ${ms} ms after SIGTERM with code ${code}`);
    process.kill(db.serverPid()!, 'SIGCONT');

    // Back: the same controller (same owner id) resumes at once; the gate opens and the workflow ends.
    writeFileSync(gate, '');
    const second = startCli(['--role=controller', '--config', config, '--listen', `127.0.0.1:${port}`], env);
    t.after(() => second.kill('SIGKILL'));
    const end = await waitFor(
      async () => {
        const row = await claimed();
        return row && ['finished', 'error', 'failed', 'ignored'].includes(row.status) ? row : undefined;
      },
      90_000,
      `the notification to end\n${second.output()}`,
    );
    assert.equal(end.status, 'finished', second.output());
    assert.equal(end.claimed_by, null, 'no notification left claimed');
    await sigtermWithinBound(second, 'controller, MariaDB back');
  });

  it('controller, Keystone frozen with a token validation in flight: exits in time', async (t) => {
    if (!requireComponent(t, 'python3', haveCommand('python3'))) return;
    const dir = tmp(t);
    const keystone = await frozenHttpServer(t, dir);
    const config = join(dir, 'masakari.yaml');
    writeFileSync(
      config,
      `data_dir: ${dir}
database: { auto_migrate: true }
api:
  auth_strategy: keystone
  keystone: { auth_url: "${keystone}/v3", username: masakari, password: secret, project_name: service }
`,
    );
    const port = await freePort();
    const child = startCli(['--role=controller', '--config', config, '--listen', `127.0.0.1:${port}`], common);
    t.after(() => child.kill('SIGKILL'));
    await waitFor(async () => (child.output().includes('controller started') ? true : undefined), 90_000, `the controller\n${child.output()}`);
    // A client request whose token the controller tries to validate against the frozen Keystone.
    const inFlight = fetch(`http://127.0.0.1:${port}/v1/segments`, { headers: { 'x-auth-token': 'sdb-token' } }).then(
      (r) => r.status,
      () => 'connection closed',
    );
    await new Promise((r) => setTimeout(r, 1000));
    const { ms } = await sigtermWithinBound(child, 'controller, Keystone frozen');
    t.diagnostic(`exited ${ms} ms after SIGTERM; the client got: ${await inFlight}`);
  });

  it('controller, Keystone and Nova frozen while the engine waits on them: exits in time, the claim released', async (t) => {
    if (!requireComponent(t, 'python3', haveCommand('python3'))) return;
    const dir = tmp(t);
    const openstack = await frozenHttpServer(t, dir);
    const config = join(dir, 'masakari.yaml');
    writeFileSync(
      config,
      `data_dir: ${dir}
database: { auto_migrate: true }
controller: { compute_driver: nova, owner_id: sdb-controller }
openstack:
  auth_url: "${openstack}/v3"
  username: masakari
  password: secret
  project_name: service
  compute_endpoint_override: "${openstack}/v2.1"
  timeout: 120
`,
    );
    const port = await freePort();
    // The segment and host first, with no compute driver (adding a host asks Nova whether it exists).
    const setup = startCli(['--role=controller', '--config', config, '--listen', `127.0.0.1:${port}`], {
      ...common,
      MASAKARI_CONTROLLER__COMPUTE_DRIVER: 'none',
    });
    t.after(() => setup.kill('SIGKILL'));
    await waitFor(async () => (setup.output().includes('controller started') ? true : undefined), 90_000, `the controller\n${setup.output()}`);
    await segmentAndHost(port, 'sdb-node4');
    await sigtermWithinBound(setup, 'controller set-up');
    const child = startCli(['--role=controller', '--config', config, '--listen', `127.0.0.1:${port}`], common);
    t.after(() => child.kill('SIGKILL'));
    await waitFor(async () => (child.output().includes('controller started') ? true : undefined), 90_000, `the controller\n${child.output()}`);
    const uuid = await notification(port, 'sdb-node4');
    const row = () => {
      const sqlite = new Database(join(dir, 'masakari.sqlite'), { readonly: true, fileMustExist: true });
      try {
        return sqlite.prepare('SELECT status, claimed_by FROM notifications WHERE uuid = ?').get(uuid) as { status: string; claimed_by: string | null };
      } finally {
        sqlite.close();
      }
    };
    await waitFor(async () => (row().claimed_by === 'sdb-controller' ? true : undefined), 30_000, `the claim\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 1000)); // the first task is now waiting on the frozen Keystone/Nova
    const { code, ms } = await sigtermWithinBound(child, 'controller, Keystone/Nova frozen');
    t.diagnostic(`exited ${ms} ms after SIGTERM with code ${code}; notification ${JSON.stringify(row())}`);
    assert.equal(code, 0, `the stop is clean: the workflow is aborted, not waited for\n${child.output()}`);
    assert.equal(row().claimed_by, null, 'no notification left claimed');
    // Aborted, not failed: left for this or another controller to resume.
    assert.ok(['new', 'running'].includes(row().status), `status ${row().status}`);
    assert.match(child.output(), /stopped/);
  });
});
