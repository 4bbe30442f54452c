// `masakari fence` through the real CLI against a real simulated BMC (ipmi_sim) and the real ipmitool.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireComponent } from '../support/components.ts';
import { runCli } from '../support/cli.ts';
import { haveIpmiSim, startSimBmc, type SimBmc } from '../labs/bmc/sim-bmc.ts';

const available = haveIpmiSim();
const PASSWORD = 'Cli-Fence-Pw-42';
let bmc: SimBmc | undefined;
let config: string;

before(async () => {
  if (!available) return;
  bmc = await startSimBmc({ host: 'cmp1', user: 'admin', password: PASSWORD });
  const dir = mkdtempSync(join(tmpdir(), 'masakari-fence-cli-'));
  config = join(dir, 'masakari.yaml');
  writeFileSync(
    config,
    [
      'fencing:',
      '  hosts:',
      '    cmp1:',
      '      kind: ipmi',
      '      address: 127.0.0.1',
      `      port: ${bmc.port}`,
      '      username: admin',
      '      password_env: CLI_TEST_BMC_PW',
      '      session_timeout_seconds: 1',
      '      session_retries: 1',
      '      confirm_timeout_seconds: 20',
      '',
    ].join('\n'),
  );
});
after(async () => {
  await bmc?.stop();
});

const env = () => ({ CLI_TEST_BMC_PW: PASSWORD });

test('fence status/off/on drive the BMC; power actions need --yes; the password never shows', async (t) => {
  if (!requireComponent(t, 'ipmi_sim + ipmitool', available)) return;
  bmc!.setPower('on');
  const status = await runCli(['fence', 'status', 'cmp1', '--config', config], { env: env() });
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.stdout.trim(), 'cmp1: power on');

  const unconfirmed = await runCli(['fence', 'off', 'cmp1', '--config', config], { env: env() });
  assert.equal(unconfirmed.code, 2);
  assert.match(unconfirmed.stderr, /--yes/);
  assert.equal(bmc!.power(), 'on', 'nothing happens without --yes');

  const off = await runCli(['fence', 'off', 'cmp1', '--yes', '--config', config], { env: env() });
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /^cmp1: power off/);
  assert.equal(bmc!.power(), 'off');

  const statusOff = await runCli(['fence', 'status', 'cmp1', '--config', config], { env: env() });
  assert.equal(statusOff.code, 3);

  const on = await runCli(['fence', 'on', 'cmp1', '--yes', '--config', config], { env: env() });
  assert.equal(on.code, 0, on.stderr);
  assert.equal(bmc!.power(), 'on');
  for (const r of [status, off, statusOff, on]) assert.ok(!(r.stdout + r.stderr).includes(PASSWORD));
});

test('fence status of a host without a fencer: a clear error, exit 1', async (t) => {
  if (!requireComponent(t, 'ipmi_sim + ipmitool', available)) return;
  const r = await runCli(['fence', 'status', 'nowhere', '--config', config], { env: env() });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no fencer configured for host nowhere/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
