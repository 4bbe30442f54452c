// The native addon loader of the bundled masakari (scripts/sea/native.ts): where it extracts, what it trusts.
// Loading from inside a real executable is covered by sea.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDirs, checkPrivate } from '../../scripts/sea/native.ts';

const uid = process.getuid!();

test('cacheDirs: XDG_CACHE_HOME, then ~/.cache, then a per-user directory under the temp dir', () => {
  assert.deepEqual(cacheDirs({ XDG_CACHE_HOME: '/c', HOME: '/h' }, 7), [
    '/c/masakari/native',
    '/h/.cache/masakari/native',
    path.join(os.tmpdir(), 'masakari-7', 'native'),
  ]);
  assert.deepEqual(cacheDirs({}, 7), [path.join(os.tmpdir(), 'masakari-7', 'native')]);
  // XDG_CACHE_HOME=$HOME/.cache names the same place once.
  assert.deepEqual(cacheDirs({ XDG_CACHE_HOME: '/h/.cache', HOME: '/h' }, 7).length, 2);
});

function tempdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'masakari-native-'));
}

test('checkPrivate accepts a 0700 directory of ours below a sticky /tmp', () => {
  const d = tempdir();
  try {
    fs.mkdirSync(path.join(d, 'n'), { mode: 0o700 });
    checkPrivate(path.join(d, 'n'), uid);
  } finally {
    fs.rmSync(d, { recursive: true });
  }
});

test('checkPrivate refuses a directory writable by others, or below one without the sticky bit', () => {
  const d = tempdir();
  try {
    const open = path.join(d, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    assert.throws(() => checkPrivate(open, uid), /open is writable by group or others \(mode 777\)/);
    const inner = path.join(open, 'inner');
    fs.mkdirSync(inner, { mode: 0o700 });
    assert.throws(() => checkPrivate(inner, uid), /open is writable by group or others/);
    fs.chmodSync(open, 0o1777); // sticky, like /tmp: others cannot move `inner` away
    checkPrivate(inner, uid);
    assert.throws(() => checkPrivate(open, uid), /writable by group or others \(mode 1777\)/, 'the directory itself is never shared');
  } finally {
    fs.rmSync(d, { recursive: true });
  }
});

test('checkPrivate refuses a directory owned by another user (root excepted), and a file', () => {
  const d = tempdir();
  try {
    const n = path.join(d, 'n');
    fs.mkdirSync(n, { mode: 0o700 });
    if (uid === 0) {
      fs.chownSync(n, 4242, 4242); // as root: hand it to someone else, then check as root
      assert.throws(() => checkPrivate(n, 0), /n is owned by uid 4242, not by us \(0\) or root/);
    } else {
      assert.throws(() => checkPrivate(n, uid + 1), new RegExp(`is owned by uid ${uid}, not by us`));
    }
    fs.writeFileSync(path.join(d, 'f'), '');
    assert.throws(() => checkPrivate(path.join(d, 'f'), uid), /is not a directory/);
  } finally {
    fs.rmSync(d, { recursive: true });
  }
});
