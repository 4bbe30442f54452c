// Builds masakari once (build.ts --outdir into a temp directory, far from the repository and its node_modules)
// and runs the single executable and the plain bundle from yet another directory, with a fresh HOME: everything
// they need, native addons included, must come from the build output.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
const koffiPkg = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/koffi/package.json'), 'utf8')) as { version: string };

let tmp: string;
let out: string; // build output
let cwd: string; // where the programs run
let home: string;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // No NODE_OPTIONS (the test runner's `--import tsx` must not leak into the programs), a HOME of our own.
  const { NODE_OPTIONS: _o, XDG_CACHE_HOME: _x, TMPDIR: _t, MASAKARI_CONFIG: _c, ...rest } = process.env;
  return { ...rest, HOME: home, ...extra };
}

function exe(args: string[], extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(path.join(out, 'masakari'), args, { cwd, env: env(extra), encoding: 'utf8', timeout: 60_000 });
}

function mjs(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(out, 'masakari.mjs'), ...args], { cwd, env: env(), encoding: 'utf8', timeout: 60_000 });
}

function ok(r: SpawnSyncReturns<string>): string {
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** A port that was free a moment ago (the program binds it right after; a clash only fails the test loudly). */
async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  srv.close();
  await once(srv, 'close');
  return port;
}

describe('single executable (build.ts)', { timeout: 600_000 }, () => {
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'masakari-sea-'));
    out = path.join(tmp, 'dist');
    cwd = path.join(tmp, 'elsewhere');
    home = path.join(tmp, 'home');
    fs.mkdirSync(cwd);
    fs.mkdirSync(home);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'build.ts'), '--outdir', out], {
      cwd: root,
      encoding: 'utf8',
      timeout: 540_000,
    });
    assert.equal(r.status, 0, `build failed:\n${r.stdout}${r.stderr}`);
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('writes the executable, the plain bundle and the addons for the bundle', () => {
    for (const f of ['masakari', 'masakari.mjs', 'native/better_sqlite3.node', 'native/koffi.node']) {
      assert.ok(fs.existsSync(path.join(out, f)), `${f} missing`);
    }
    assert.ok(fs.statSync(path.join(out, 'masakari')).mode & 0o100, 'masakari is not executable');
    assert.ok(!fs.existsSync(path.join(out, 'sea/sea-prep.blob')), 'the blob is inside the executable; no copy left behind');
  });

  test('--version prints the package version, and nothing on stderr (no warning at startup)', () => {
    const r = exe(['--version']);
    assert.equal(ok(r).trim(), pkg.version);
    assert.equal(r.stderr, '');
    assert.equal(ok(mjs(['--version'])).trim(), pkg.version);
  });

  test('--help lists the commands and hides selftest', () => {
    const help = ok(exe(['--help']));
    for (const cmd of ['db', 'status', 'config']) assert.match(help, new RegExp(`^\\s+masakari ${cmd}\\b`, 'm'));
    assert.match(help, /--role/);
    assert.doesNotMatch(help, /selftest/);
  });

  test('--help, --version and config check need no native addon: nothing is extracted for them', () => {
    // Addons are unpacked only when a role or command actually opens SQLite or libvirt (koffi is imported lazily),
    // so these work on hosts with no writable cache directory at all.
    const cache = fs.mkdtempSync(path.join(tmp, 'cache-'));
    ok(exe(['--help'], { XDG_CACHE_HOME: cache }));
    ok(exe(['--version'], { XDG_CACHE_HOME: cache }));
    ok(exe(['config', 'check', path.join(root, 'config.example.yaml')], { XDG_CACHE_HOME: cache }));
    assert.deepEqual(fs.readdirSync(cache), [], 'nothing was extracted');
  });

  test('bad usage exits 2 with a message (yargs failure path through the async wrapper)', () => {
    const r = exe(['no-such-command']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Unknown argument|Unknown command/i);
  });

  test('selftest native: SQLite, FFI and import() work; the embedded addons are extracted once into ~/.cache', () => {
    const report = JSON.parse(ok(exe(['selftest', 'native']))) as Record<string, unknown>;
    assert.equal(report.node, process.version, 'the executable embeds the Node that built it');
    assert.match(String(report.sqlite), /^3\.\d+\.\d+$/);
    assert.equal(report.koffi, koffiPkg.version);
    assert.ok(Number(report.ffiGetpid) > 1);
    assert.equal(report.dynamicImport, true, 'import() of a module outside the bundle');

    const dir = path.join(home, '.cache/masakari/native');
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    const files = fs.readdirSync(dir).sort();
    assert.equal(files.length, 2, files.join(', '));
    for (const f of files) {
      const name = f.replace(/^[0-9a-f]{16}-/, '');
      const digest = createHash('sha256')
        .update(fs.readFileSync(path.join(out, 'native', name)))
        .digest('hex');
      assert.equal(f, `${digest.slice(0, 16)}-${name}`, 'extracted file is named by the hash of the built addon');
    }
  });

  test('a damaged extracted addon is detected by its hash and written again', () => {
    ok(exe(['selftest', 'native']));
    const dir = path.join(home, '.cache/masakari/native');
    const koffi = fs.readdirSync(dir).find((f) => f.endsWith('-koffi.node'))!;
    const file = path.join(dir, koffi);
    const good = fs.readFileSync(file);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, 'not an ELF file');
    ok(exe(['selftest', 'native']));
    assert.ok(fs.readFileSync(file).equals(good));
  });

  test('refuses to extract where others can write, tells what to do, and leaves nothing there', () => {
    const shared = path.join(tmp, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777); // not sticky: anyone could swap our directory for theirs
    const r = exe(['selftest', 'native'], { XDG_CACHE_HOME: shared, HOME: shared, TMPDIR: shared });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cannot load native addon (better_sqlite3|koffi)\.node/);
    assert.match(r.stderr, /shared is writable by group or others \(mode 777\)/);
    assert.match(r.stderr, /XDG_CACHE_HOME/);
    assert.ok(!fs.readdirSync(shared, { recursive: true }).some((f) => String(f).endsWith('.node')), 'no addon written');
  });

  test('XDG_CACHE_HOME chooses where the addons go; a --database command then works with the config loader', () => {
    const own = path.join(tmp, 'own');
    // db sync also loads the configuration: the variable must not be mistaken for a MASAKARI_* config key.
    const url = `sqlite:${path.join(tmp, 'own.sqlite')}`;
    ok(exe(['db', 'sync', '--database', url], { XDG_CACHE_HOME: own }));
    const files = fs.readdirSync(path.join(own, 'masakari/native'));
    assert.ok(
      files.some((f) => /^[0-9a-f]{16}-better_sqlite3\.node$/.test(f)),
      files.join(', '),
    );
  });

  test('db sync / db version on a SQLite file through the executable', () => {
    const url = `sqlite:${path.join(tmp, 'db', 'masakari.sqlite')}`;
    fs.mkdirSync(path.join(tmp, 'db'));
    ok(exe(['db', 'sync', '--database', url]));
    const version = Number(ok(exe(['db', 'version', '--database', url])).trim());
    assert.ok(Number.isInteger(version) && version >= 1, `schema version ${version}`);
  });

  test('serves the API as --role=controller and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const data = path.join(tmp, 'serve');
    fs.mkdirSync(data);
    const child = spawn(path.join(out, 'masakari'), ['--role=controller'], {
      cwd,
      env: env({ MASAKARI_DATA_DIR: data, MASAKARI_DATABASE__AUTO_MIGRATE: 'true', MASAKARI_API__LISTEN: `127.0.0.1:${port}` }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = once(child, 'exit');
    try {
      let res: Response | undefined;
      for (let i = 0; i < 150 && !res; i++) {
        if (child.exitCode !== null) assert.fail(`masakari exited ${child.exitCode}: ${stderr}`);
        res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
        if (!res) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(res, `no answer on port ${port}: ${stderr}`);
      assert.equal(res.status, 200);
      assert.ok(Array.isArray(((await res.json()) as { versions?: unknown }).versions), 'the version document');
    } finally {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = await exited;
    clearTimeout(timer);
    assert.equal(signal, null, `killed: did not stop on SIGTERM\n${stderr}`);
    assert.equal(code, 0, stderr);
  });

  test('the plain bundle loads the addons from native/ beside it', () => {
    const report = JSON.parse(ok(mjs(['selftest', 'native']))) as Record<string, unknown>;
    assert.equal(report.koffi, koffiPkg.version);
    assert.equal(report.dynamicImport, true);
    const moved = path.join(tmp, 'moved');
    fs.mkdirSync(moved);
    fs.copyFileSync(path.join(out, 'masakari.mjs'), path.join(moved, 'masakari.mjs'));
    const r = spawnSync(process.execPath, [path.join(moved, 'masakari.mjs'), 'selftest', 'native'], { cwd, env: env(), encoding: 'utf8' });
    assert.equal(r.status, 1);
    // Which addon is missed first depends on what src/ imports at startup; either way the message names the path.
    assert.match(r.stderr, /native addon (better_sqlite3|koffi)\.node not found at .*moved\/native\/(better_sqlite3|koffi)\.node/);
  });
});

test('build.ts refuses an output directory holding files it did not write', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'masakari-build-'));
  try {
    fs.writeFileSync(path.join(dir, 'precious.txt'), 'keep me');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'build.ts'), '--outdir', dir], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /precious\.txt.*refusing/);
    assert.equal(fs.readFileSync(path.join(dir, 'precious.txt'), 'utf8'), 'keep me');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
