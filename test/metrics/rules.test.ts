// The shipped alert rules (deploy/prometheus/masakari-rules.yml) pass `promtool check rules` and their unit tests
// (masakari-rules.test.yml: each alert fires on the series that should fire it and not on the near misses).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireComponent } from '../support/components.ts';
import { promtoolAvailable } from './scrape.ts';

const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

test('the alert rules are valid and their unit tests pass (promtool)', (t) => {
  if (!requireComponent(t, 'promtool (Debian prometheus)', promtoolAvailable())) return;
  const check = spawnSync('promtool', ['check', 'rules', 'masakari-rules.yml'], { cwd: dir, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: 6 rules found/);
  const run = spawnSync('promtool', ['test', 'rules', 'masakari-rules.test.yml'], { cwd: dir, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /SUCCESS/);
});
