// The `fencing` config section and the per-host registry: defaults, inheritance, and clear errors for bad input.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../src/core/config/load.ts';
import { FENCING_TIMING_DEFAULTS } from '../../../src/core/config/sections/fencing.ts';
import { createFencer } from '../../../src/drivers/fence/registry.ts';
import { FenceError } from '../../../src/drivers/fence/errors.ts';
import { captureLog, rejection } from './helpers.ts';

function problems(fencing: unknown): string[] {
  try {
    parseConfig({ fencing }, 'test');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected the config to be rejected');
}

describe('fencing config', () => {
  test('one host of each kind, with defaults filled in', () => {
    const c = parseConfig(
      {
        fencing: {
          defaults: { retries: 4 },
          hosts: {
            c1: { kind: 'ipmi', address: '10.0.0.1', username: 'admin', password_file: '/etc/masakari/bmc/c1' },
            c2: { kind: 'redfish', url: 'https://10.0.0.2:8443', username: 'root', password_env: 'C2_BMC_PASSWORD', timeout_seconds: 5 },
            c3: { kind: 'agent', agent: 'fence_ipmilan', username: 'admin', password: 'x', options: { ip: '10.0.0.3', lanplus: true, cipher: 3 } },
          },
        },
      },
      'test',
    );
    const h = c.fencing.hosts;
    assert.equal(h.c1?.kind, 'ipmi');
    if (h.c1?.kind === 'ipmi') {
      assert.equal(h.c1.port, 623);
      assert.equal(h.c1.interface, 'lanplus');
      assert.equal(h.c1.cipher_suite, 3);
    }
    if (h.c2?.kind === 'redfish') assert.equal(h.c2.verify_tls, true);
    assert.equal(c.fencing.defaults.retries, 4);
    assert.equal(c.fencing.defaults.confirm_timeout_seconds, FENCING_TIMING_DEFAULTS.confirm_timeout_seconds);

    const f = createFencer(c.fencing);
    assert.deepEqual(f.hosts(), ['c1', 'c2', 'c3']);
    // Host values override the defaults field by field.
    assert.equal(f.for('c2').timing.timeout_seconds, 5);
    assert.equal(f.for('c2').timing.retries, 4);
    assert.equal(f.for('c1').timing.timeout_seconds, FENCING_TIMING_DEFAULTS.timeout_seconds);
  });

  test('no fencing section: no hosts', () => {
    assert.deepEqual(parseConfig({}, 'test').fencing.hosts, {});
  });

  test('bad input is refused with the path and the reason', () => {
    const two = problems({ hosts: { c1: { kind: 'ipmi', address: 'a', password: 'x', password_env: 'Y' } } });
    assert.ok(
      two.some((p) => p.startsWith('fencing.hosts.c1') && p.includes('at most one of password, password_file, password_env')),
      two.join('\n'),
    );

    const http = problems({ hosts: { c1: { kind: 'redfish', url: 'http://10.0.0.2' } } });
    assert.ok(
      http.some((p) => p.startsWith('fencing.hosts.c1.url') && p.includes('https://')),
      http.join('\n'),
    );

    const prog = problems({ hosts: { c1: { kind: 'agent', agent: 'rm' } } });
    assert.ok(
      prog.some((p) => p.startsWith('fencing.hosts.c1.agent') && p.includes('fence_*')),
      prog.join('\n'),
    );

    const pwOpt = problems({ hosts: { c1: { kind: 'agent', agent: 'fence_ipmilan', options: { password: 'x' } } } });
    assert.ok(
      pwOpt.some((p) => p.startsWith('fencing.hosts.c1.options') && p.includes('credentials go in')),
      pwOpt.join('\n'),
    );

    const nl = problems({ hosts: { c1: { kind: 'agent', agent: 'fence_ipmilan', options: { ip: '1.2.3.4\naction=off' } } } });
    assert.ok(
      nl.some((p) => p.includes('must be one line')),
      nl.join('\n'),
    );

    const typo = problems({ hosts: { c1: { kind: 'ipmi', address: 'a', cipher: 3 } } });
    assert.ok(
      typo.some((p) => p === 'fencing.hosts.c1.cipher: unknown key'),
      typo.join('\n'),
    );

    const kind = problems({ hosts: { c1: { kind: 'ilo', address: 'a' } } });
    assert.ok(
      kind.some((p) => p.startsWith('fencing.hosts.c1.kind')),
      kind.join('\n'),
    );

    const addr = problems({ hosts: { c1: { kind: 'ipmi', address: 'https://bmc' } } });
    assert.ok(
      addr.some((p) => p.startsWith('fencing.hosts.c1.address')),
      addr.join('\n'),
    );
  });

  test('an unknown host is a clear error naming it', async () => {
    const f = createFencer(parseConfig({ fencing: { hosts: { c1: { kind: 'ipmi', address: 'a' } } } }, 'test').fencing);
    const e = await rejection(() => f.powerOff('c9'));
    assert.ok(e instanceof FenceError);
    assert.equal(e.code, 'not_configured');
    assert.match(e.message, /^no fencer configured for host c9 \(fencing.hosts has: c1\)$/);
    const empty = createFencer(parseConfig({}, 'test').fencing);
    assert.match((await rejection(() => empty.status('c1'))).message, /no fencer configured for host c1 \(fencing.hosts is empty\)/);
  });

  test('warns at startup about a password in the config and about unverified TLS', () => {
    const log = captureLog();
    createFencer(
      parseConfig({ fencing: { hosts: { c1: { kind: 'redfish', url: 'https://b', password: 'pw-in-file', verify_tls: false } } } }, 'test').fencing,
      { logger: log.logger },
    );
    assert.equal(log.find('BMC password is written in the configuration').length, 1);
    assert.equal(log.find('TLS certificate of the BMC is NOT verified').length, 1);
    assert.ok(!log.text().includes('pw-in-file'));
  });
});
