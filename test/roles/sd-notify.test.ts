// systemd readiness and watchdog (src/cli/systemd.ts) through a real unix datagram socket: a Python listener plays
// systemd's side of sd_notify(3) (NOTIFY_SOCKET), the role runs as the real CLI.
//   - READY=1 comes only once the API answers, and never from a role that fails to start;
//   - WATCHDOG=1 comes regularly, stops while a recovery task blocks the event loop, and resumes after;
//   - STOPPING=1 on SIGTERM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCli, waitFor } from '../support/cli.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { openNotifier } from '../../src/drivers/systemd/notify.ts';

const BUSY_TASK = fileURLToPath(new URL('./fixtures/busy-loop-task.ts', import.meta.url));

// Prints one JSON line per datagram: {"t": monotonic ms, "msg": "..."}.
const LISTENER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\\0" + a[1:] if a.startswith("@") else a)  # @name: an abstract socket, as systemd writes it
print(json.dumps({"t": 0, "msg": "LISTENING"}), flush=True)
while True:
    data = s.recv(4096)
    print(json.dumps({"t": time.monotonic() * 1000, "msg": data.decode()}), flush=True)
`;

interface Datagram {
  t: number;
  msg: string;
  /** When this test process saw it (Date.now()). */
  seen: number;
}

async function startListener(path: string): Promise<{ proc: ChildProcess; got: Datagram[] }> {
  const proc = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const got: Datagram[] = [];
  let buf = '';
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line) got.push({ ...(JSON.parse(line) as { t: number; msg: string }), seen: Date.now() });
    }
  });
  await waitFor(async () => (got.some((d) => d.msg === 'LISTENING') ? true : undefined), 10_000, 'the notify listener');
  return { proc, got };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

test('READY=1 only once the API answers; STOPPING=1 on SIGTERM; a role that cannot start never says READY', { timeout: 120_000 }, async (t) => {
  if (!requireComponent(t, 'python3', haveCommand('python3'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'notify');
  const { proc: listener, got } = await startListener(sock);
  t.after(() => listener.kill());
  const port = await freePort();
  const child = startCli(['--role=controller', '--listen', `127.0.0.1:${port}`, '--database', `sqlite:${join(dir, 'm.sqlite')}`], {
    MASAKARI_DATABASE__AUTO_MIGRATE: 'true',
    NOTIFY_SOCKET: sock,
  });
  t.after(() => child.kill('SIGKILL'));

  // Probe the API continuously; record whether it answered at the moment READY=1 arrived.
  let answeredBeforeReady = false;
  const ready = await waitFor(
    async () => {
      const r = got.find((d) => d.msg.startsWith('READY=1'));
      if (r) return r;
      try {
        answeredBeforeReady ||= (await fetch(`http://127.0.0.1:${port}/`)).ok;
      } catch {
        // not listening yet
      }
      return undefined;
    },
    90_000,
    `READY=1\n${child.output()}`,
  );
  assert.match(ready.msg, /^READY=1\nSTATUS=controller role serving$/);
  // At READY the API must answer at once (no retry).
  const res = await fetch(`http://127.0.0.1:${port}/v1/segments`);
  assert.equal(res.status, 200, 'the API answers as soon as READY=1 was sent');
  t.diagnostic(`API answered before READY=1 arrived: ${answeredBeforeReady}`);
  assert.equal(got.filter((d) => d.msg.startsWith('READY=1')).length, 1, 'READY=1 is sent once');
  // Without WATCHDOG_USEC there is no watchdog ping.
  assert.equal(got.filter((d) => d.msg === 'WATCHDOG=1').length, 0);

  child.kill('SIGTERM');
  assert.equal(await exited(child), 0);
  await waitFor(async () => (got.some((d) => d.msg.startsWith('STOPPING=1')) ? true : undefined), 5000, 'STOPPING=1');

  // The API port taken: the controller exits 1 and never says READY=1.
  const blocker: Server = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
  });
  t.after(() => blocker.close());
  const taken = (blocker.address() as { port: number }).port;
  const before = got.length;
  const failing = startCli(['--role=controller', '--listen', `127.0.0.1:${taken}`, '--database', `sqlite:${join(dir, 'm.sqlite')}`], { NOTIFY_SOCKET: sock });
  t.after(() => failing.kill('SIGKILL'));
  assert.equal(await exited(failing), 1, failing.output());
  await new Promise((r) => setTimeout(r, 300)); // a datagram sent just before the exit would have arrived by now
  assert.deepEqual(
    got.slice(before).filter((d) => d.msg.startsWith('READY=1')),
    [],
    'no READY=1 from a controller that could not listen',
  );
});

test('WATCHDOG=1 comes regularly, stops while a recovery task blocks the event loop, and resumes', { timeout: 180_000 }, async (t) => {
  if (!requireComponent(t, 'python3', haveCommand('python3'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'notify');
  const { proc: listener, got } = await startListener(sock);
  t.after(() => listener.kill());
  const port = await freePort();
  const config = join(dir, 'masakari.yaml');
  writeFileSync(
    config,
    `taskflow_driver_recovery_flows:
  custom_task_modules: { busy_loop_task: "${BUSY_TASK}" }
  instance_failure_recovery_tasks: { pre: [busy_loop_task] }
`,
  );
  const BUSY_MS = 6000;
  const WATCHDOG_MS = 1000; // pings every 250 ms; a tick more than 500 ms late sends nothing
  const child = startCli(['--role=controller', '--config', config, '--listen', `127.0.0.1:${port}`, '--database', `sqlite:${join(dir, 'm.sqlite')}`], {
    MASAKARI_DATABASE__AUTO_MIGRATE: 'true',
    NOTIFY_SOCKET: sock,
    WATCHDOG_USEC: String(WATCHDOG_MS * 1000),
    SDN_BUSY_MS: String(BUSY_MS),
  });
  t.after(() => child.kill('SIGKILL'));
  await waitFor(async () => (got.some((d) => d.msg.startsWith('READY=1')) ? true : undefined), 90_000, `READY=1\n${child.output()}`);
  const pings = () => got.filter((d) => d.msg === 'WATCHDOG=1');
  const atReady = pings().length;
  await waitFor(async () => (pings().length >= atReady + 4 ? true : undefined), 20_000, 'watchdog pings while idle');

  const base = `http://127.0.0.1:${port}/v1`;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await r.text();
    assert.ok(r.status < 300, `${path}: ${r.status} ${text}`);
    return JSON.parse(text) as Record<string, Record<string, unknown>>;
  };
  const seg = await post('/segments', { segment: { name: 'sdn-seg', recovery_method: 'auto', service_type: 'COMPUTE' } });
  await post(`/segments/${String(seg.segment!.uuid)}/hosts`, { host: { name: 'sdn-cmp1', type: 'COMPUTE', control_attributes: 'x' } });
  const beforeBlock = pings().length;
  const posted = Date.now();
  await post('/notifications', {
    notification: {
      type: 'VM',
      hostname: 'sdn-cmp1',
      generated_time: new Date().toISOString(),
      payload: { event: 'LIFECYCLE', instance_uuid: '0b7c6d2e-2f4a-4c1e-9a57-5d1f3e8b6a21', vir_domain_event: 'STOPPED_FAILED' },
    },
  });
  // The task starts right after the 202 and spins BUSY_MS; wait until pings resumed after it.
  await waitFor(
    async () => (child.output().includes('event loop was blocked') ? true : undefined),
    BUSY_MS + 30_000,
    `the blocked-loop log line\n${child.output()}`,
  );
  await waitFor(async () => (pings().length >= beforeBlock + 4 ? true : undefined), 20_000, 'pings resuming');
  const during = pings().filter((d) => d.seen >= posted);
  // The longest silence between consecutive pings after the notification covers (most of) the busy loop.
  let longest = 0;
  let prev =
    pings()
      .filter((d) => d.seen < posted)
      .at(-1)?.t ?? during[0]!.t;
  for (const d of during) {
    longest = Math.max(longest, d.t - prev);
    prev = d.t;
  }
  t.diagnostic(`longest gap between pings: ${Math.round(longest)} ms (busy loop ${BUSY_MS} ms)`);
  assert.ok(longest >= BUSY_MS * 0.8, `no WATCHDOG=1 while the loop was blocked: longest gap ${Math.round(longest)} ms`);
  assert.match(child.output(), /event loop was blocked for \d+ ms: this watchdog ping is skipped/);
  child.kill('SIGTERM');
  assert.equal(await exited(child), 0);
});

test('abstract NOTIFY_SOCKET (@name) works; the variables are removed for child processes; no socket: no-op', async (t) => {
  if (!requireComponent(t, 'python3', haveCommand('python3'))) return;
  const name = `sdn-abstract-${process.pid}-${Date.now()}`;
  const { proc, got } = await startListener(`@${name}`);
  t.after(() => proc.kill());
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: `@${name}` };
  const notifier = await openNotifier(env);
  t.after(() => notifier.close());
  assert.equal(env.NOTIFY_SOCKET, undefined, 'NOTIFY_SOCKET is not passed on');
  assert.equal(notifier.send('STATUS=hello'), null);
  await waitFor(async () => (got.some((d) => d.msg === 'STATUS=hello') ? true : undefined), 5000, 'the datagram');

  const none = await openNotifier({});
  assert.equal(none.enabled, false);
  assert.equal(none.send('READY=1'), null);
  // A socket nobody listens on: the reason is returned, nothing is thrown.
  const gone = await openNotifier({ NOTIFY_SOCKET: join(tmpdir(), `sdn-nobody-${process.pid}`) });
  t.after(() => gone.close());
  assert.match(gone.send('READY=1') ?? '', /No such file or directory|Connection refused/);
  await assert.rejects(openNotifier({ NOTIFY_SOCKET: 'relative/path' }), /neither an absolute path nor an abstract name/);
});
