// Pure pieces of the fencing drivers: redaction, backoff, retry policy, output parsing (with real tool outputs).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { realEnv } from '../../../src/core/env.ts';
import { Redactor } from '../../../src/drivers/fence/redact.ts';
import { backoffDelay, withRetries } from '../../../src/drivers/fence/retry.ts';
import { FenceError } from '../../../src/drivers/fence/errors.ts';
import { agentReason } from '../../../src/drivers/fence/agent/fence-agent.ts';
import { IpmitoolBackend } from '../../../src/drivers/fence/ipmi/ipmitool.ts';
import { mapPowerState } from '../../../src/drivers/fence/redfish/redfish.ts';
import { rejection } from './helpers.ts';

describe('fencing units', () => {
  test('Redactor replaces every occurrence, longest secret first, and ignores empty secrets', () => {
    const r = new Redactor();
    r.add('');
    r.add('abc');
    r.add('abcdef');
    assert.equal(r.redact('x abcdef y abc z'), 'x *** y *** z');
    const e = r.redactError(new Error('login abc failed'));
    assert.equal(e.message, 'login *** failed');
    assert.ok(!e.stack?.includes('abc'));
  });

  test('backoff doubles, is capped at 30 s, and jitters by at most 20 %', () => {
    assert.equal(
      backoffDelay(1, 1000, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(3, 1000, () => 0),
      4000,
    );
    assert.equal(
      backoffDelay(20, 1000, () => 0),
      30000,
    );
    assert.equal(
      backoffDelay(2, 1000, () => 0.999),
      2400,
    );
  });

  test('retries only what a retry can fix', async () => {
    let calls = 0;
    const fail = (code: FenceError['code']) => async () => {
      calls++;
      throw new FenceError(code, code);
    };
    for (const [code, expected] of [
      ['unreachable', 3],
      ['timeout', 3],
      ['auth', 1],
      ['config', 1],
      ['not_configured', 1],
    ] as const) {
      calls = 0;
      const e = await rejection(() => withRetries(fail(code), { retries: 2, backoffMs: 0, env: realEnv }));
      assert.equal((e as FenceError).code, code);
      assert.equal(calls, expected, code);
    }
    calls = 0;
    const ok = await withRetries(async (a) => (a < 2 ? fail('unreachable')() : 'on'), { retries: 2, backoffMs: 0, env: realEnv });
    assert.deepEqual(ok, { value: 'on', attempts: 2 });
  });

  test('an aborted signal stops the retries', async () => {
    const ac = new AbortController();
    let calls = 0;
    const e = await rejection(() =>
      withRetries(
        async () => {
          calls++;
          ac.abort();
          throw new FenceError('timeout', 't');
        },
        { retries: 5, backoffMs: 0, env: realEnv, signal: ac.signal },
      ),
    );
    assert.equal((e as FenceError).code, 'timeout');
    assert.equal(calls, 1);
  });

  test('ipmitool failures are classified from its -v output (samples from ipmitool 1.8.19 against ipmi_sim)', () => {
    const b = new IpmitoolBackend({
      address: '127.0.0.1',
      port: 623,
      interface: 'lanplus',
      cipher_suite: 3,
      privilege: null,
      command: 'ipmitool',
      session_timeout_seconds: 1,
      session_retries: 1,
      username: 'admin',
    });
    const r = (stderr: string) => ({ code: 1, signal: null, stdout: '', stderr });
    const cls = (stderr: string) => b.classify(r(stderr), 'chassis power status').code;
    assert.equal(cls('Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n'), 'auth');
    assert.equal(cls('RAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n'), 'auth');
    assert.equal(
      cls('Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session\n'),
      'unreachable',
    );
    assert.equal(
      cls('Error in open session response message : invalid authentication algorithm\n\nError: Unable to establish IPMI v2 / RMCP+ session\n'),
      'config',
    );
    assert.equal(cls('Something new\n'), 'failed');
    assert.deepEqual(b.args(['chassis', 'power', 'off'], true), [
      '-v',
      '-I',
      'lanplus',
      '-H',
      '127.0.0.1',
      '-p',
      '623',
      '-N',
      '1',
      '-R',
      '1',
      '-C',
      '3',
      '-U',
      'admin',
      '-E',
      'chassis',
      'power',
      'off',
    ]);
  });

  test("agentReason picks the agent's error out of Python warnings, or the exception of a crash", () => {
    const stderr = (s: string) => ({ code: 1, signal: null, stdout: '', stderr: s });
    const warn = "/usr/sbin/fence_ipmilan:5: DeprecationWarning: 'pipes' is deprecated and slated for removal in Python 3.13\n  from pipes import quote\n";
    assert.equal(
      agentReason(stderr(warn + '2026-11-22 03:55:02,873 ERROR: Failed: Unable to obtain correct plug status or plug is not available\n\n\n')),
      'ERROR: Failed: Unable to obtain correct plug status or plug is not available',
    );
    assert.equal(
      agentReason(
        stderr(
          "Traceback (most recent call last):\n  File \"/usr/sbin/fence_redfish\", line 100, in find_systems_resource\n    for member in data[u'Members']:\nKeyError: 'Members'\n",
        ),
      ),
      "agent crashed: KeyError: 'Members'",
    );
  });

  test('Redfish PowerState mapping: only Off is off; transitions are unknown', () => {
    assert.equal(mapPowerState('Off'), 'off');
    assert.equal(mapPowerState('On'), 'on');
    assert.equal(mapPowerState('Paused'), 'on');
    assert.equal(mapPowerState('PoweringOff'), 'unknown');
    assert.equal(mapPowerState('PoweringOn'), 'unknown');
    assert.equal(mapPowerState(undefined), null);
  });
});
