// A clone of this repository, alone, must pass its own tests and run its own benchmarks: nothing may read from a
// folder beside the repository (a "shared" folder one level up) or from an absolute path that exists on one machine
// only (the work area of one machine, a home directory). Recorded data the tests need lives in test/fixtures/, the labs in test/labs/.
// System paths used on purpose (/usr/bin, /run/libvirt, /var/lib, /etc, /proc, /dev, /tmp) are fine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { requireComponent } from '../support/components.ts';

const repoRoot = resolve(import.meta.dirname, '../..');

// The patterns are assembled from pieces so that this file does not trip over its own source.
const SLASH = '/';
const RULES: { why: string; re: RegExp }[] = [
  { why: 'reads from a folder beside the repository', re: new RegExp(`\\.\\.${SLASH}shared(?![\\w-])`) },
  // The reference folder by name, without "../" (a comment that sends the reader to a file a clone does not have).
  { why: 'names the reference folder beside the repository', re: new RegExp(`(?<![\\w.-])shared${SLASH}reference${SLASH}`) },
  // Not part of a longer path or a URL ("https://host/work/" or "network/" are fine).
  { why: 'absolute path of one machine', re: new RegExp(`(?<![\\w.~/])${SLASH}work(?![\\w-])`) },
  { why: 'a home directory', re: new RegExp(`(?<![\\w.~/])${SLASH}(?:root(?=[/'"\`]|$)|home${SLASH}[\\w.-]+|Users${SLASH}[\\w.-]+)`, 'm') },
];

/** The problems of one file's text: "line: why: the line". */
export function machinePaths(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { why, re } of RULES) if (re.test(line)) out.push(`${i + 1}: ${why}: ${line.trim().slice(0, 160)}`);
  });
  return out;
}

const p = (...parts: string[]) => parts.join(SLASH);

test('the matcher flags reads beside the repository and paths of one machine', () => {
  const bad = [
    `const dir = resolve(import.meta.dirname, '${p('..', '..', '..', 'shared', 'reference', 'crm_mon')}');`,
    `join(repoRoot, '${p('..', 'shared')}')`,
    `PEER_RECIPE=\${PEER_RECIPE:-${p('', 'work', 'shared', 'reference', 'recipes')}}`,
    `cd ${p('', 'work')}`,
    `copy it from \`${p('', 'root', 'masakari')}\``,
    `HOME='${p('', 'root')}'`,
    `open ${p('', 'home', 'alice', 'masakari', 'x.yaml')}`,
    `see ${p('', 'Users', 'bob', 'src')}`,
    `// measured on this machine (${p('shared', 'reference', 'libvirt-koffi.md')})`,
  ];
  for (const line of bad) assert.ok(machinePaths(line).length >= 1, line);
  const good = [
    `execFile(${p('', 'usr', 'bin', 'python3')})`,
    `socket ${p('', 'run', 'libvirt', 'libvirt-sock')} and ${p('', 'var', 'lib', 'libvirt')}`,
    `${p('', 'etc', 'masakari', 'masakari.yaml')} ${p('', 'proc', '1', 'stat')} ${p('', 'dev', 'shm')} ${p('', 'tmp', 'x')}`,
    `https://example.org${p('', 'work', 'items')} and docs${p('', 'work', 'x')}`,
    `test${p('', 'fixtures', 'crm_mon')} ${p('', 'workers')} ${p('', 'homepage')}`,
    `assert.match(e.message, ${p('', 'root element must be <cib>', '')});`,
    `~${p('', '.cache')} and ${p('', 'shared', 'x')} (a path inside the repository)`,
  ];
  for (const line of good) assert.deepEqual(machinePaths(line), [], line);
});

function trackedFiles(): string[] | null {
  try {
    // Tracked files and new ones not yet added (but not ignored ones), so a fresh mistake is caught before commit.
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' });
    return [...new Set(out.split('\0').filter(Boolean))];
  } catch {
    return null;
  }
}

test('no file of the repository reads from a folder beside it or names an absolute path of one machine', (t) => {
  const files = trackedFiles();
  if (!requireComponent(t, 'git, and a git checkout of the repository', files !== null)) return;
  assert.ok(files!.length > 100, `only ${files!.length} files listed`);
  const problems: string[] = [];
  for (const f of files!) {
    const full = join(repoRoot, f);
    if (!existsSync(full) || !statSync(full).isFile()) continue; // deleted in the work tree, or a symlink to a dir
    const buf = readFileSync(full);
    if (buf.includes(0)) continue; // binary
    for (const problem of machinePaths(buf.toString('utf8'))) problems.push(`${f}:${problem}`);
  }
  assert.deepEqual(problems, [], 'put recorded data under test/fixtures/ and labs under test/labs/, and find them relative to the file that uses them');
});
