// api.policy rule names: a misspelled name used to be accepted and did nothing (the real rule kept its default).
// An unknown name must stop startup and `config check` with exit 2, naming the key and the nearest known name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../../src/core/config/load.ts';
import { checkSemantics } from '../../src/core/config/semantic.ts';
import { runCli } from '../support/cli.ts';

const check = (policy: Record<string, string>) => checkSemantics(parseConfig({ api: { policy } }, 'test'), 'test');

function problemsOf(policy: Record<string, string>): { path: string; message: string }[] {
  try {
    check(policy);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('a misspelled rule name is refused, with the nearest known name', () => {
  const problems = problemsOf({ 'os_masakari_api:segment:create': '!' });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.path, 'api.policy.os_masakari_api:segment:create');
  assert.match(problems[0]!.message, /unknown policy rule; did you mean "os_masakari_api:segments:create"\?/);
});

test('known names, and helper rules that another rule refers to, are accepted', () => {
  assert.deepEqual(
    problemsOf({
      'os_masakari_api:segments:create': '!',
      admin_or_reader: 'rule:admin_api or role:reader',
      'os_masakari_api:segments:index': 'rule:admin_or_reader',
    }),
    [],
  );
});

test('a rule that refers to an undefined rule is refused (it would deny silently)', () => {
  const problems = problemsOf({ 'os_masakari_api:segments:index': 'rule:admin_ap or role:reader' });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.path, 'api.policy.os_masakari_api:segments:index');
  assert.match(problems[0]!.message, /refers to rule "admin_ap", which is not defined; did you mean "admin_api"\?/);
});

test('config check and startup: exit 2 naming the key and the nearest known name', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'masakari-policy-')), 'policy.yaml');
  writeFileSync(file, 'api:\n  policy:\n    "os_masakari_api:segment:create": "!"\n');
  for (const args of [
    ['config', 'check', file],
    ['--role=controller', '--config', file],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /api\.policy\.os_masakari_api:segment:create: unknown policy rule; did you mean "os_masakari_api:segments:create"\?/);
  }
});
