// The fence-agents driver: the real fence_ipmilan against a simulated BMC (ipmi_sim), plus small fence_* scripts of
// the test's own to pin the stdin protocol and the timeout handling, which no real agent can be made to exercise.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand, requireComponent } from '../../support/components.ts';
import { haveIpmiSim, startSimBmc, type SimBmc } from '../../labs/bmc/sim-bmc.ts';
import { FenceError } from '../../../src/drivers/fence/errors.ts';
import { captureLog, fencerFor, rejection } from './helpers.ts';

const haveFenceIpmilan = haveIpmiSim() && haveCommand('fence_ipmilan');
const PASSWORD = 'Agent-S3cret-4';

/** True when the process is gone (or a zombie nobody reaped yet, which runs no code either). */
function dead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

describe('agent driver', { timeout: 120_000 }, () => {
  let bmc: SimBmc | undefined;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'masakari-agent-test-'));
    if (haveFenceIpmilan) bmc = await startSimBmc({ host: 'compute2', user: 'admin', password: PASSWORD });
  });
  after(async () => {
    await bmc?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const script = (name: string, body: string) => {
    const p = join(tmp, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };

  const ipmilan = (over: Record<string, unknown> = {}) => ({
    kind: 'agent',
    agent: 'fence_ipmilan',
    username: 'admin',
    password: PASSWORD,
    options: { ip: '127.0.0.1', ipport: bmc!.port, lanplus: true, cipher: 3 },
    ...over,
  });

  test('fence_ipmilan --lanplus --cipher=3: status, off, on against ipmi_sim', async (t) => {
    if (!requireComponent(t, 'fence_ipmilan + ipmi_sim (fence-agents, openipmi, ipmitool)', haveFenceIpmilan)) return;
    bmc!.setPower('on');
    const f = fencerFor({ compute2: ipmilan() });
    assert.equal(await f.status('compute2'), 'on');
    const off = await f.powerOff('compute2');
    assert.equal(off.confirmed, 'off');
    assert.equal(bmc!.power(), 'off');
    assert.match(off.evidence, new RegExp(`agent fence_ipmilan ip=127\\.0\\.0\\.1:${bmc!.port}`));
    assert.match(off.evidence, /action=off exit 0: Success: Powered OFF/);
    assert.match(off.evidence, /status query confirms off/);
    assert.equal(await f.status('compute2'), 'off');
    const on = await f.powerOn('compute2');
    assert.equal(on.confirmed, 'on');
    assert.equal(bmc!.power(), 'on');
  });

  test('fence_ipmilan with a wrong password: a clear failure after the retries, the host untouched', async (t) => {
    if (!requireComponent(t, 'fence_ipmilan + ipmi_sim (fence-agents, openipmi, ipmitool)', haveFenceIpmilan)) return;
    bmc!.setPower('on');
    const before = bmc!.commands().length;
    const log = captureLog();
    const f = fencerFor({ compute2: ipmilan({ password: 'not-the-pw', retries: 1 }) }, { logger: log.logger });
    const e = await rejection(() => f.powerOff('compute2'));
    assert.ok(e instanceof FenceError);
    assert.equal(e.code, 'failed');
    assert.match(e.message, /power off of host compute2 via agent fence_ipmilan .* failed after 2 attempts: action=off failed \(exit 1\)/);
    assert.match(e.message, /Unable to obtain correct plug status/);
    assert.equal(bmc!.commands().length, before);
    assert.equal(bmc!.power(), 'on');
  });

  test('stdin carries action, credentials and options as key=value lines; nothing in argv', async () => {
    const rec = join(tmp, 'record');
    // Records its argv and stdin; answers status with "off" (exit 2) as the fence-agents API says.
    const agent = script('fence_record', `echo "argc=$#" > ${rec}.argv\ncat > ${rec}.stdin\ngrep -q '^action=status$' ${rec}.stdin && exit 2\nexit 0`);
    const f = fencerFor({
      h1: {
        kind: 'agent',
        agent,
        username: 'fenceuser',
        password: 'pw-1',
        options: { ip: '10.0.0.9', lanplus: true, verbose: false, cipher: 3, 'power-wait': '2' },
      },
    });
    assert.equal(await f.status('h1'), 'off');
    assert.equal(readFileSync(`${rec}.argv`, 'utf8').trim(), 'argc=0');
    assert.deepEqual(readFileSync(`${rec}.stdin`, 'utf8').split('\n'), [
      'action=status',
      'username=fenceuser',
      'password=pw-1',
      'ip=10.0.0.9',
      'lanplus=1',
      'verbose=0',
      'cipher=3',
      'power-wait=2',
      '',
    ]);
  });

  test("status exit codes: 0 is on, 2 is off, anything else an error with the agent's own words", async () => {
    const agent = script(
      'fence_exit',
      `read line\ncase "$line" in action=status) echo "2026-01-01 00:00:00,000 ERROR: Failed: Unable to connect" >&2; exit 1;; esac\nexit 0`,
    );
    const f = fencerFor({ h1: { kind: 'agent', agent, retries: 0 } });
    const e = await rejection(() => f.status('h1'));
    assert.equal(e.code, 'failed');
    assert.match(e.message, /action=status failed \(exit 1\): ERROR: Failed: Unable to connect/);
  });

  test('an agent that hangs is killed with its children at the timeout, and retried', async () => {
    const pids = join(tmp, 'hang.pids');
    const agent = script('fence_hang', `sleep 300 &\necho "$$ $!" >> ${pids}\nwait`);
    const log = captureLog();
    const f = fencerFor({ h1: { kind: 'agent', agent, timeout_seconds: 0.5, retries: 1 } }, { logger: log.logger });
    const e = await rejection(() => f.status('h1'));
    assert.equal(e.code, 'timeout');
    assert.match(e.message, /did not finish within 0\.5 s and was killed/);
    const runs = readFileSync(pids, 'utf8').trim().split('\n');
    assert.equal(runs.length, 2, 'one retry');
    // SIGTERM went to the whole process group: wait (bounded) until both the agent and its child are gone.
    const all = runs.flatMap((l) => l.split(' ').map(Number));
    for (let i = 0; i < 50 && !all.every(dead); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      all.filter((p) => !dead(p)),
      [],
    );
  });

  test('an agent that exits leaving a background child on its stdout is answered at its exit, not at the timeout', async () => {
    const pids = join(tmp, 'bg.pids');
    // The child inherits stdout, so the pipe stays open after the agent exits.
    const agent = script('fence_bg', `sleep 30 &\necho $! > ${pids}\necho "Status: OFF"\nexit 2`);
    try {
      const f = fencerFor({ h1: { kind: 'agent', agent, timeout_seconds: 20, retries: 0 } });
      assert.equal(await f.status('h1'), 'off');
    } finally {
      const pid = Number(readFileSync(pids, 'utf8'));
      if (!dead(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  test('aborting an operation kills the running agent and reports aborted, without retrying', async () => {
    const pids = join(tmp, 'abort.pids');
    const agent = script('fence_slow', `echo $$ >> ${pids}\nsleep 300`);
    const f = fencerFor({ h1: { kind: 'agent', agent, timeout_seconds: 60, retries: 3 } });
    const ac = new AbortController();
    const op = f.powerOff('h1', ac.signal);
    for (let i = 0; i < 100 && !existsSync(pids); i++) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    const e = await rejection(() => op);
    assert.equal(e.code, 'aborted');
    const started = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    assert.equal(started.length, 1);
    for (let i = 0; i < 50 && !dead(started[0]!); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(dead(started[0]!));
  });

  test('a missing agent program is a config error', async () => {
    const f = fencerFor({ h1: { kind: 'agent', agent: join(tmp, 'fence_does_not_exist'), retries: 0 } });
    const e = await rejection(() => f.status('h1'));
    assert.equal(e.code, 'config');
    assert.match(e.message, /program not found: .*fence_does_not_exist/);
    assert.ok(!existsSync(join(tmp, 'fence_does_not_exist')));
  });
});
