// config.example.yaml is the operators' reference: it must parse, and it must name every key the schema has, so a
// new option cannot ship undocumented.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/core/config/load.ts';
import { repoRoot } from '../support/cli.ts';

const examplePath = join(repoRoot, 'config.example.yaml');

/** Key paths of a parsed tree; empty mappings and lists count as leaves. */
function keyPaths(tree: unknown, prefix = ''): string[] {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree) || Object.keys(tree).length === 0) return [prefix];
  return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

test('config.example.yaml is valid', () => {
  assert.doesNotThrow(() => loadConfig({ file: examplePath }));
});

test('config.example.yaml names every configuration key', () => {
  const documented = new Set(keyPaths(parse(readFileSync(examplePath, 'utf8'))));
  const missing = keyPaths(loadConfig({})).filter((p) => !documented.has(p));
  assert.deepEqual(missing, [], `keys missing from config.example.yaml: ${missing.join(', ')}`);
});

test('config.example.yaml shows the defaults (it sets nothing the defaults do not)', () => {
  const fromExample = loadConfig({ file: examplePath });
  const defaults = loadConfig({});
  assert.deepEqual(fromExample, defaults);
});
