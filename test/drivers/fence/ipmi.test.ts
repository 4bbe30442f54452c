// The IPMI driver against a real ipmitool talking to a real simulated BMC (OpenIPMI's ipmi_sim).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireComponent } from '../../support/components.ts';
import { haveIpmiSim, startSimBmc, freeUdpPort, type SimBmc } from '../../labs/bmc/sim-bmc.ts';
import { FenceError } from '../../../src/drivers/fence/errors.ts';
import { captureLog, fencerFor, rejection } from './helpers.ts';

const available = haveIpmiSim();
const PASSWORD = 'Ipmi-S3cret-7';

describe('ipmi driver against ipmi_sim', { timeout: 120_000 }, () => {
  let bmc: SimBmc | undefined;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'masakari-ipmi-test-'));
    if (available) bmc = await startSimBmc({ host: 'compute1', user: 'admin', password: PASSWORD });
  });
  after(async () => {
    await bmc?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const hostCfg = (over: Record<string, unknown> = {}) => ({
    kind: 'ipmi',
    address: '127.0.0.1',
    port: bmc!.port,
    username: 'admin',
    password_env: 'TEST_BMC_PW',
    cipher_suite: 3,
    session_timeout_seconds: 1,
    session_retries: 1,
    ...over,
  });
  const env = { TEST_BMC_PW: PASSWORD };

  test('status, off, on: the simulated hardware changes and a status query confirms it', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    bmc!.setPower('on');
    const f = fencerFor({ compute1: hostCfg() }, { processEnv: env });
    assert.equal(await f.status('compute1'), 'on');

    const off = await f.powerOff('compute1');
    assert.equal(off.confirmed, 'off');
    assert.equal(bmc!.power(), 'off');
    assert.match(off.evidence, /ipmi 127\.0\.0\.1:\d+ lanplus cipher 3/);
    assert.match(off.evidence, /status before: on/);
    assert.match(off.evidence, /Chassis Power Control: Down\/Off/);
    assert.match(off.evidence, /status query confirms off/);
    assert.equal(await f.status('compute1'), 'off');

    const on = await f.powerOn('compute1');
    assert.equal(on.confirmed, 'on');
    assert.equal(bmc!.power(), 'on');
    assert.deepEqual(bmc!.commands().slice(-2), ['power=0', 'power=1']);
  });

  test('power off of a host already off sends no command', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    bmc!.setPower('off');
    const before = bmc!.commands().length;
    const f = fencerFor({ compute1: hostCfg() }, { processEnv: env });
    const r = await f.powerOff('compute1');
    assert.equal(r.confirmed, 'off');
    assert.match(r.evidence, /off already; no power command sent/);
    assert.equal(bmc!.commands().length, before);
  });

  test('a BMC that accepts power off but keeps the power on is reported unconfirmed, not off', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    bmc!.setPower('on');
    bmc!.setStuck(true);
    try {
      const log = captureLog();
      const f = fencerFor({ compute1: hostCfg({ confirm_timeout_seconds: 0.5, poll_interval_seconds: 0.1 }) }, { processEnv: env, logger: log.logger });
      const r = await f.powerOff('compute1');
      assert.equal(r.confirmed, 'on');
      assert.match(r.evidence, /status did not show off within 0\.5 s: last status on/);
      assert.equal(bmc!.power(), 'on');
      assert.equal(log.find('power off: NOT confirmed').length, 1);
    } finally {
      bmc!.setStuck(false);
    }
  });

  test('wrong password: an auth error, not retried (repeated bad logins can lock a BMC account)', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    const log = captureLog();
    const f = fencerFor({ compute1: hostCfg({ password_env: undefined, password: 'wrong-pass-1', retries: 3 }) }, { logger: log.logger });
    const before = bmc!.commands().length;
    const e = await rejection(() => f.powerOff('compute1'));
    assert.ok(e instanceof FenceError);
    assert.equal(e.code, 'auth');
    assert.match(e.message, /host compute1/);
    assert.match(e.message, /rejected the credentials of user admin/);
    assert.equal(log.find('status query: attempt').length, 0, 'no retry after an auth failure');
    assert.equal(bmc!.commands().length, before);
  });

  test('BMC down: unreachable after the configured retries', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    const port = await freeUdpPort(); // nothing listens there
    const log = captureLog();
    const f = fencerFor({ compute1: hostCfg({ port, retries: 1, retry_backoff_seconds: 0.05 }) }, { processEnv: env, logger: log.logger });
    const e = await rejection(() => f.status('compute1'));
    assert.ok(e instanceof FenceError);
    assert.equal(e.code, 'unreachable');
    assert.match(e.message, /status query of host compute1 via ipmi 127\.0\.0\.1:\d+ lanplus cipher 3 failed after 2 attempts: no answer from the BMC/);
    assert.equal(log.find('status query: attempt').length, 1);
  });

  test('a cipher suite the BMC refuses is a config error naming the suite', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    const f = fencerFor({ compute1: hostCfg({ cipher_suite: 17 }) }, { processEnv: env });
    const e = await rejection(() => f.status('compute1'));
    assert.equal(e.code, 'config');
    assert.match(e.message, /cipher suite 17/);
  });

  test('the password reaches ipmitool through its environment, never its argv; password_file works', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    // A wrapper in place of ipmitool records what `ps` would show (argv) and then runs the real ipmitool.
    const argvFile = join(tmp, 'argv.txt');
    const wrapper = join(tmp, 'ipmitool-wrapper');
    writeFileSync(wrapper, `#!/bin/sh\necho "$0 $*" >> ${argvFile}\nexec ipmitool "$@"\n`);
    chmodSync(wrapper, 0o755);
    const pwFile = join(tmp, 'bmc.pw');
    writeFileSync(pwFile, PASSWORD + '\n', { mode: 0o600 });
    bmc!.setPower('on');
    const f = fencerFor({ compute1: hostCfg({ command: wrapper, password_env: undefined, password_file: pwFile }) });
    const r = await f.powerOff('compute1');
    assert.equal(r.confirmed, 'off');
    const argv = readFileSync(argvFile, 'utf8');
    assert.match(argv, /-E chassis power off/);
    assert.ok(!argv.includes(PASSWORD), 'password in argv');
    assert.ok(!argv.includes(' -P '), 'no -P');
  });

  test('password_env naming an unset variable: a config error naming the variable', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', available)) return;
    const f = fencerFor({ compute1: hostCfg({ password_env: 'NO_SUCH_VAR_FOR_BMC' }) }, { processEnv: {} });
    const e = await rejection(() => f.powerOff('compute1'));
    assert.equal(e.code, 'config');
    assert.match(e.message, /NO_SUCH_VAR_FOR_BMC/);
  });
});
