// The process monitor against real processes: a copy of `sleep` under a unique name plays the daemon; the test kills
// it and watches the monitor restart it (or fail to, and notify).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { realEnv } from '../../src/core/env.ts';
import { ProcessMonitor } from '../../src/core/monitors/process/process-monitor.ts';
import { scanProcesses } from '../../src/core/monitors/process/proc-scan.ts';
import type { NotificationDraft } from '../../src/core/ports/notify.ts';
import { waitFor } from '../delivery/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-procmon-'));
const monitors: ProcessMonitor[] = [];

async function pidsOf(name: string): Promise<number[]> {
  return (await scanProcesses()).filter((p) => p.commandLine.includes(name) && p.pid !== process.pid).map((p) => p.pid);
}
async function killAll(name: string): Promise<void> {
  for (const pid of await pidsOf(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
const daemons: string[] = [];
after(async () => {
  for (const m of monitors) await m.stop();
  for (const d of daemons) await killAll(d);
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh "daemon" binary with a unique path, and a script that starts it detached. */
function makeDaemon() {
  const id = randomBytes(4).toString('hex');
  const bin = join(dir, `masakari-fake-daemon-${id}`);
  copyFileSync('/bin/sleep', bin);
  chmodSync(bin, 0o755);
  daemons.push(bin);
  const starter = join(dir, `start-${id}.sh`);
  // Output to /dev/null so the command returns at once (its pipes do not stay open through the daemon).
  writeFileSync(starter, `#!/bin/sh\necho "$0 $*" >> ${join(dir, `runs-${id}.log`)}\nsetsid ${bin} 3600 </dev/null >/dev/null 2>&1 &\n`);
  chmodSync(starter, 0o755);
  const failing = join(dir, `fail-${id}.sh`);
  writeFileSync(failing, `#!/bin/sh\necho "$0 $*" >> ${join(dir, `runs-${id}.log`)}\nexit 1\n`);
  chmodSync(failing, 0o755);
  const runs = () => {
    const f = join(dir, `runs-${id}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').length : 0;
  };
  return { id, bin, name: `masakari-fake-daemon-${id}`, starter, failing, runs };
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines, has: (msg: RegExp) => lines.some((l) => msg.test(String(l.msg))) };
}

function monitor(listPath: string, drafts: NotificationDraft[], extra: Partial<ConstructorParameters<typeof ProcessMonitor>[0]> = {}) {
  const m = new ProcessMonitor({
    processListPath: listPath,
    checkIntervalMs: 100,
    restartRetries: 2,
    restartIntervalMs: 20,
    commandTimeoutMs: 10_000,
    hostname: 'compute-1',
    sink: { submit: async (d) => void drafts.push(d) },
    env: realEnv,
    log: logCapture().log,
    ...extra,
  });
  monitors.push(m);
  return m;
}

const entry = (processName: string, over: Record<string, string | boolean | null> = {}) => ({
  process_name: processName,
  start_command: null,
  pre_start_command: null,
  post_start_command: null,
  restart_command: null,
  pre_restart_command: null,
  post_restart_command: null,
  run_as_root: false,
  ...over,
});
const writeList = (path: string, entries: object[]) => writeFileSync(path, JSON.stringify(entries)); // JSON is YAML

test('starts a listed process that is not running, then restarts it when it dies, running pre/post commands', async () => {
  const d = makeDaemon();
  const list = join(dir, `list-${d.id}.yaml`);
  const pre = join(dir, `pre-${d.id}`);
  const post = join(dir, `post-${d.id}`);
  writeList(list, [
    entry(d.bin, {
      start_command: d.starter,
      restart_command: `${d.starter} restart`,
      pre_restart_command: `/usr/bin/touch ${pre}`,
      post_restart_command: `/usr/bin/touch ${post}`,
    }),
  ]);
  const drafts: NotificationDraft[] = [];
  const m = monitor(list, drafts, { watchList: false });
  await m.start();
  await waitFor('initial start', () => d.runs() === 1);
  let pids: number[] = [];
  for (let i = 0; i < 100 && (pids = await pidsOf(d.bin)).length !== 1; i++) await realEnv.sleep(20);
  assert.equal(pids.length, 1);
  process.kill(pids[0]!, 'SIGKILL');
  await waitFor('restart ran', () => d.runs() === 2);
  for (let i = 0; i < 100 && (await pidsOf(d.bin)).length !== 1; i++) await realEnv.sleep(20);
  assert.equal((await pidsOf(d.bin)).length, 1, 'running again');
  assert.ok(existsSync(pre) && existsSync(post), 'pre and post restart commands ran');
  assert.match(readFileSync(join(dir, `runs-${d.id}.log`), 'utf8'), /start-\w+\.sh restart/);
  assert.deepEqual(drafts, []);
  await m.stop();
});

test('when every restart fails: PROCESS/STOPPED once, no more restarts until the process is seen running again', async () => {
  const d = makeDaemon();
  const list = join(dir, `list-${d.id}.yaml`);
  writeList(list, [entry(d.bin, { restart_command: d.failing })]);
  const drafts: NotificationDraft[] = [];
  const m = monitor(list, drafts, { watchList: false });
  await m.start();
  await waitFor('a notification', () => drafts.length === 1);
  assert.equal(d.runs(), 3, 'restart_retries 2 -> 3 attempts');
  assert.equal(drafts[0]?.type, 'PROCESS');
  assert.equal(drafts[0]?.hostname, 'compute-1');
  assert.deepEqual(drafts[0]?.payload, { event: 'STOPPED', process_name: d.name });
  assert.match(drafts[0]?.generated_time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.deepEqual(m.givenUp(), [d.bin]);
  // Several more checks: nothing restarted, nothing sent.
  const checks = async (k: number) => {
    for (let i = 0; i < k; i++) await m.check();
  };
  await checks(3);
  assert.equal(d.runs(), 3);
  assert.equal(drafts.length, 1);
  // An operator brings it back: the monitor takes it up again...
  const { execFileSync } = await import('node:child_process');
  execFileSync(d.starter);
  for (let i = 0; i < 100 && (await pidsOf(d.bin)).length !== 1; i++) await realEnv.sleep(20);
  await checks(1);
  assert.deepEqual(m.givenUp(), []);
  // ...so when it dies again it is restarted (and reported) again.
  await killAll(d.bin);
  for (let i = 0; i < 100 && (await pidsOf(d.bin)).length !== 0; i++) await realEnv.sleep(20);
  await waitFor('second notification', () => drafts.length === 2);
  assert.equal(d.runs(), 4 + 3);
  await m.stop();
});

test('a process without restart_command is reported without restart attempts', async () => {
  const d = makeDaemon();
  const list = join(dir, `list-${d.id}.yaml`);
  writeList(list, [entry(d.bin)]);
  const drafts: NotificationDraft[] = [];
  const m = monitor(list, drafts, { watchList: false });
  await m.start();
  await waitFor('a notification', () => drafts.length === 1);
  assert.equal(d.runs(), 0);
  await m.stop();
});

test('the list is reloaded on change; an invalid list is logged and the old one kept', async () => {
  const d1 = makeDaemon();
  const d2 = makeDaemon();
  const list = join(dir, `list-${d1.id}.yaml`);
  writeList(list, [entry(d1.bin, { start_command: d1.starter, restart_command: d1.starter })]);
  const cap = logCapture();
  const drafts: NotificationDraft[] = [];
  const m = monitor(list, drafts, { log: cap.log, checkIntervalMs: 200 });
  await m.start();
  assert.deepEqual(
    m.currentList().map((p) => p.process_name),
    [d1.bin],
  );

  writeFileSync(list, '- process_name: [unclosed\n');
  await waitFor('invalid list reported', () => cap.has(/invalid process list: keeping the previous one/));
  assert.deepEqual(
    m.currentList().map((p) => p.process_name),
    [d1.bin],
  );
  const err = cap.lines.find((l) => /invalid process list/.test(String(l.msg)));
  assert.match(String(err?.reason), /not valid YAML/);

  writeFileSync(list, '- start_command: /bin/true\n');
  await waitFor('second invalid list reported', () => cap.lines.filter((l) => /invalid process list/.test(String(l.msg))).length === 2);
  const err2 = cap.lines.filter((l) => /invalid process list/.test(String(l.msg)))[1];
  assert.match(String(err2?.reason), /entry 1\.process_name/);

  writeList(list, [entry(d1.bin, { start_command: d1.starter, restart_command: d1.starter }), entry(d2.bin, { restart_command: d2.starter })]);
  await waitFor('new list in use', () => m.currentList().length === 2);
  // The newly listed process is not running: the next check restarts it.
  await waitFor('second daemon started', () => d2.runs() === 1);
  assert.deepEqual(drafts, []);
  await m.stop();
});

test('the file watcher alone picks up a change (no check runs in between)', async () => {
  const d1 = makeDaemon();
  const list = join(dir, `list-w-${d1.id}.yaml`);
  writeList(list, []);
  const drafts: NotificationDraft[] = [];
  const m = monitor(list, drafts, { checkIntervalMs: 600_000 });
  await m.start();
  assert.deepEqual(m.currentList(), []);
  writeList(list, [entry(d1.bin, { restart_command: d1.starter })]);
  await waitFor('watcher reload', () => m.currentList().length === 1);
  await m.stop();
});
