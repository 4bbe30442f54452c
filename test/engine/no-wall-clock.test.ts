// The engine must take all time and randomness from Env, or the simulator's virtual clock would not drive it
// (and its golden logs would not be deterministic). This guards the rule on the engine's sources.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const forbidden = [/\bDate\.now\(/, /\bsetTimeout\(/, /\bsetInterval\(/, /\bMath\.random\(/, /\bnew Date\(\s*\)/, /\bperformance\.now\(/];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('src/core/engine uses Env for time and randomness, never the wall clock', () => {
  const root = join(import.meta.dirname, '..', '..', 'src', 'core', 'engine');
  const offenders: string[] = [];
  for (const f of files(root)) {
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        if (forbidden.some((re) => re.test(code))) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.ok(files(root).length > 10, 'engine sources found');
  assert.deepEqual(offenders, []);
});
