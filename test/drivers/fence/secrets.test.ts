// Credentials never leave the fencing drivers: not in log lines, not in error messages or stacks, not in evidence.
// Covers each kind against its real counterpart, success and failure, and an agent that echoes its stdin (with the
// password) to its output, which is what fence-agents do with an option line they do not know.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand, requireComponent } from '../../support/components.ts';
import { haveIpmiSim, startSimBmc, type SimBmc } from '../../labs/bmc/sim-bmc.ts';
import { haveOpenssl, makeSelfSignedCert, startRedfishBmc, type Cert, type RedfishBmc } from '../../labs/bmc/redfish-bmc.ts';
import { captureLog, fencerFor, type CapturedLog } from './helpers.ts';
import type { ConfiguredFencer } from '../../../src/drivers/fence/registry.ts';

const RIGHT = 'Qz7-right-Pw';
const WRONG = 'Qz7-wrong-Pw';
const SECRETS = [RIGHT, WRONG, Buffer.from(`admin:${RIGHT}`).toString('base64'), Buffer.from(`admin:${WRONG}`).toString('base64')];

/** Runs every operation, collecting whatever text a caller could see: evidence, error message and stack. */
async function exercise(f: ConfiguredFencer, host: string): Promise<string[]> {
  const seen: string[] = [];
  for (const op of [() => f.status(host), () => f.powerOff(host), () => f.powerOn(host)]) {
    try {
      const r = await op();
      seen.push(typeof r === 'string' ? r : r.evidence);
    } catch (e) {
      seen.push(String((e as Error).message), String((e as Error).stack));
    }
  }
  return seen;
}

function assertClean(log: CapturedLog, seen: string[]): void {
  assert.ok(log.lines.length > 0, 'the operations logged something');
  const all = log.text() + '\n' + seen.join('\n');
  for (const s of SECRETS) assert.ok(!all.includes(s), `secret ${s.slice(0, 3)}… leaked:\n${all}`);
}

describe('no credential in logs, errors or evidence', { timeout: 120_000 }, () => {
  let ipmi: SimBmc | undefined;
  let cert: Cert | undefined;
  let redfish: RedfishBmc | undefined;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'masakari-secrets-test-'));
    if (haveIpmiSim()) ipmi = await startSimBmc({ host: 'h-ipmi', user: 'admin', password: RIGHT });
    if (haveOpenssl()) {
      cert = await makeSelfSignedCert();
      redfish = await startRedfishBmc({ cert, user: 'admin', password: RIGHT });
    }
  });
  after(async () => {
    await ipmi?.stop();
    await redfish?.close();
    cert?.remove();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('ipmi, right and wrong password', async (t) => {
    if (!requireComponent(t, 'ipmi_sim + ipmitool (openipmi, ipmitool)', haveIpmiSim())) return;
    for (const password of [RIGHT, WRONG]) {
      const log = captureLog();
      const f = fencerFor(
        { h: { kind: 'ipmi', address: '127.0.0.1', port: ipmi!.port, username: 'admin', password, session_timeout_seconds: 1, session_retries: 1 } },
        { logger: log.logger },
      );
      assertClean(log, await exercise(f, 'h'));
    }
  });

  test('redfish, basic and session auth, right and wrong password', async (t) => {
    if (!requireComponent(t, 'openssl', haveOpenssl())) return;
    for (const auth of ['basic', 'session']) {
      for (const password of [RIGHT, WRONG]) {
        const log = captureLog();
        const f = fencerFor({ h: { kind: 'redfish', url: redfish!.url, username: 'admin', password, verify_tls: false, auth } }, { logger: log.logger });
        assertClean(log, await exercise(f, 'h'));
      }
    }
  });

  test('fence_redfish crashing on a wrong password', async (t) => {
    if (!requireComponent(t, 'fence_redfish (fence-agents) + openssl', haveOpenssl() && haveCommand('fence_redfish'))) return;
    const log = captureLog();
    const f = fencerFor(
      {
        h: {
          kind: 'agent',
          agent: 'fence_redfish',
          username: 'admin',
          password: WRONG,
          retries: 0,
          options: { ip: '127.0.0.1', ipport: redfish!.port, ssl_insecure: true },
        },
      },
      { logger: log.logger },
    );
    assertClean(log, await exercise(f, 'h'));
  });

  test('an agent that prints its stdin (password included) on stdout and stderr is redacted', async () => {
    // On status it fails, echoing stdin to stderr; on off/on it succeeds, echoing stdin to stdout (into evidence).
    const agent = join(tmp, 'fence_echo');
    writeFileSync(agent, `#!/bin/sh\nin=$(cat)\ncase "$in" in action=status*) echo "Ignoring unknown option: $in" >&2; exit 1;; esac\necho "$in"\nexit 0\n`);
    chmodSync(agent, 0o755);
    for (const password of [RIGHT, WRONG]) {
      const log = captureLog();
      const pwFile = join(tmp, 'pw');
      writeFileSync(pwFile, password + '\n');
      const f = fencerFor(
        { h: { kind: 'agent', agent, username: 'admin', password_file: pwFile, retries: 1, confirm_timeout_seconds: 0 } },
        { logger: log.logger },
      );
      const seen = await exercise(f, 'h');
      assertClean(log, seen);
      // The redaction marker shows the echo really happened, so this test would catch a missing redaction.
      assert.match(seen.join('\n'), /password=\*\*\*/);
      assert.match(log.text(), /password=\*\*\*/);
    }
  });
});
