// The command line as operators meet it: version, help, configuration errors, status checks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, repoRoot } from '../support/cli.ts';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const tmp = () => mkdtempSync(join(tmpdir(), 'masakari-cli-'));

test('--version prints the package version', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('--help lists the roles and commands', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const word of ['--role', 'db', 'status', 'config', 'sim', 'monitors']) assert.match(r.stdout, new RegExp(word));
});

test('no role: a clear message and exit 2', async () => {
  const r = await runCli([]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--role=controller\|compute\|all/);
});

test('config check accepts config.example.yaml', async () => {
  const r = await runCli(['config', 'check', join(repoRoot, 'config.example.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /configuration OK/);
});

test('config check: unknown key and bad value give exit 2 with each key path and reason', async () => {
  const dir = tmp();
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'api:\n  listen: nowhere\n  colour: red\nengine:\n  verify_interval: -1\n');
  const r = await runCli(['config', 'check', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /api\.listen: must be HOST:PORT/);
  assert.match(r.stderr, /api\.colour: unknown key/);
  assert.match(r.stderr, /engine\.verify_interval: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('config check: a file that is not YAML gives exit 2 and says so', async () => {
  const dir = tmp();
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, 'api: [unclosed\n');
  const r = await runCli(['config', 'check', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not valid YAML/);
});

test('serving with a bad environment override stops startup with exit 2 naming the key', async () => {
  const r = await runCli(['--role=controller'], { env: { MASAKARI_API__OSAPI_MAX_LIMIT: 'lots' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /api\.osapi_max_limit/);
});

test('status upgrade check: failure (2) before db sync, success (0) after, warning (1) for noauth2 on all addresses', async () => {
  const dir = tmp();
  const db = `sqlite:${join(dir, 'm.sqlite')}`;
  const before = await runCli(['status', 'upgrade', 'check', '--database', db]);
  assert.equal(before.code, 2, before.stdout + before.stderr);
  assert.match(before.stdout, /Result: Failure/);
  assert.match(before.stdout, /masakari db sync/);

  const sync = await runCli(['db', 'sync', '--database', db]);
  assert.equal(sync.code, 0, sync.stderr);

  const after = await runCli(['status', 'upgrade', 'check', '--database', db]);
  assert.equal(after.code, 0, after.stdout + after.stderr);
  assert.doesNotMatch(after.stdout, /Failure|Warning/);

  const open = await runCli(['status', 'upgrade', 'check', '--database', db, '--listen', '0.0.0.0:15868']);
  assert.equal(open.code, 1, open.stdout);
  assert.match(open.stdout, /Result: Warning/);
});

test('config check: a policy rule that does not parse gives exit 2 naming the rule', async () => {
  const dir = tmp();
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, 'api:\n  policy:\n    "os_masakari_api:segments:index": "role:admin or or"\n');
  const r = await runCli(['config', 'check', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /api\.policy\.os_masakari_api:segments:index/);
});
