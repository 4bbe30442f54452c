// `masakari sim run PATH`: prints the scenario's log; --check compares it with the golden log; bad input gets a
// clear message and exit code 2, never a stack trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const masakari = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

test('sim run prints the log of a scenario, identical to its golden log (--check)', () => {
  const dir = join(root, 'test', 'sim', 'scenarios', 'vm-ha-enabled-restart');
  const r = masakari('sim', 'run', dir, '--check');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(dir, 'expected.log'), 'utf8'));
});

test('sim run: a missing file or an invalid scenario is a clear error with exit code 2', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'masakari-sim-'));
  try {
    const missing = masakari('sim', 'run', join(tmp, 'nope.yaml'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read scenario/);
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'description: x\ncloud: {}\nevents:\n  - { at: 1, power_off: h1, power_on: h1 }\n  - { at: -1, nova: sideways }\n');
    const r = masakari('sim', 'run', bad);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /invalid scenario/);
    assert.match(r.stderr, /events\.0: each event has "at" and exactly one action/);
    assert.match(r.stderr, /events\.1\.nova/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
