// MASAKARI_* environment variables: one that names a section of ours with an unknown key is a typo and stops
// startup; any other MASAKARI_* variable (set by another tool on the machine) is ignored with one warning.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/core/config/load.ts';
import { runCli } from '../support/cli.ts';

function load(env: Record<string, string>) {
  const warnings: string[] = [];
  const config = loadConfig({ env, warn: (m) => warnings.push(m) });
  return { config, warnings };
}

test('a MASAKARI_ variable that is no section of ours is ignored with a warning naming it', () => {
  const { config, warnings } = load({ MASAKARI_MIRROR: 'https://mirror.example', MASAKARI_API__LISTEN: '0.0.0.0:1' });
  assert.equal(config.api.listen, '0.0.0.0:1', 'the real keys still apply');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /MASAKARI_MIRROR.*not a configuration key.*ignored/);
});

test('a misspelled section is ignored with a warning that names the nearest section', () => {
  const { config, warnings } = load({ MASAKARI_AIP__LISTEN: '0.0.0.0:1' });
  assert.equal(config.api.listen, '127.0.0.1:15868');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /MASAKARI_AIP__LISTEN.*did you mean MASAKARI_API__/);
});

test('a known section with an unknown key still stops startup, naming the key', () => {
  assert.throws(
    () => load({ MASAKARI_API__COLOUR: 'red' }),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.path === 'api.colour' && /unknown key/.test(p.message)),
  );
});

test('special variables (MASAKARI_CONFIG, MASAKARI_DEBUG) and top-level keys (MASAKARI_DATA_DIR) give no warning', () => {
  const { config, warnings } = load({ MASAKARI_CONFIG: '/etc/masakari/masakari.yaml', MASAKARI_DEBUG: '1', MASAKARI_DATA_DIR: '/srv/m' });
  assert.deepEqual(warnings, []);
  assert.equal(config.data_dir, '/srv/m');
});

test('the CLI starts with an unrelated MASAKARI_MIRROR and warns once on stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-env-'));
  const r = await runCli(['db', 'sync', '--database', `sqlite:${join(dir, 'm.sqlite')}`], { env: { MASAKARI_MIRROR: 'x' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.match(/MASAKARI_MIRROR/g)?.length, 1, r.stderr);
  const bad = await runCli(['db', 'sync', '--database', `sqlite:${join(dir, 'm.sqlite')}`], { env: { MASAKARI_DATABASE__AUTO_MIGRAT: 'true' } });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /database\.auto_migrat: unknown key/);
});
