// Loads the native addons (better-sqlite3, koffi) inside the BUNDLED masakari only; build.ts redirects
// `require('bindings')` (better-sqlite3) and koffi's platform-package loader here. Running from source never
// reaches this file: there the packages load their addons from node_modules as usual.
//
// Where the addon file comes from:
//  - single executable (dist/masakari): the addons are embedded as SEA assets ("native/<name>"). A shared object
//    can only be dlopen()ed from a file, so each is written once to a private cache directory under a name that
//    carries its SHA-256, and its content is checked against that hash before every load.
//  - plain bundle (node dist/masakari.mjs): the files build.ts copied to dist/native/, next to the script.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const loaded = new Map<string, unknown>();

/** Returns the exports of the native addon `name` (e.g. 'better_sqlite3.node'), loading it on first use. */
export function loadNativeAddon(name: string): unknown {
  const known = loaded.get(name);
  if (known !== undefined) return known;
  const exports = isSea() ? loadEmbedded(name) : loadBeside(name);
  loaded.set(name, exports);
  return exports;
}

// `node:sea` exists from Node 20.12; the bundle requires >= 20.19, so a missing module means "not an executable".
function sea(): typeof import('node:sea') | undefined {
  try {
    return createRequire(import.meta.url)('node:sea') as typeof import('node:sea');
  } catch {
    return undefined;
  }
}

function isSea(): boolean {
  return sea()?.isSea() ?? false;
}

function loadBeside(name: string): unknown {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'native', name);
  if (!fs.existsSync(file)) {
    throw new Error(`native addon ${name} not found at ${file} (dist/native/ must stay next to masakari.mjs)`);
  }
  return dlopen(file);
}

function loadEmbedded(name: string): unknown {
  let bytes: Buffer;
  try {
    // getRawAsset: a view of the bytes inside the executable, no copy (we only read it). Typed string | ArrayBuffer,
    // but an asset added from a file is always an ArrayBuffer.
    bytes = Buffer.from(sea()!.getRawAsset(`native/${name}`) as ArrayBuffer);
  } catch (e) {
    throw new Error(`native addon ${name} is not embedded in this executable: ${(e as Error).message}`);
  }
  const digest = sha256(bytes);
  const problems: string[] = [];
  // Each candidate directory is tried in turn: a read-only home or a `noexec` /tmp (dlopen fails there with
  // "failed to map segment") must not stop the program when another directory works.
  for (const dir of cacheDirs()) {
    try {
      const file = extract(dir, name, bytes, digest);
      return dlopen(file);
    } catch (e) {
      problems.push(`${dir}: ${(e as Error).message}`);
    }
  }
  throw new Error(
    `cannot load native addon ${name}; set MASAKARI_NATIVE_DIR to a private, writable directory ` +
      `on a filesystem mounted without noexec. Tried:\n  ${problems.join('\n  ')}`,
  );
}

/** Where extracted addons are kept. MASAKARI_NATIVE_DIR, when set, is the only candidate (explicit wins). */
export function cacheDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.MASAKARI_NATIVE_DIR) return [path.resolve(env.MASAKARI_NATIVE_DIR)];
  const dirs: string[] = [];
  if (env.XDG_CACHE_HOME) dirs.push(path.join(env.XDG_CACHE_HOME, 'masakari', 'native'));
  if (env.HOME) dirs.push(path.join(env.HOME, '.cache', 'masakari', 'native'));
  dirs.push(path.join(os.tmpdir(), `masakari-${process.getuid?.() ?? 'user'}`, 'native'));
  return [...new Set(dirs)];
}

function extract(dir: string, name: string, bytes: Buffer, digest: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivate(dir);
  // The hash in the name lets two masakari versions share a directory; old files are left alone on purpose
  // (another running version may still need them).
  const file = path.join(dir, `${digest.slice(0, 16)}-${name}`);
  if (fs.existsSync(file)) {
    if (sha256(fs.readFileSync(file)) === digest) return file;
    fs.rmSync(file, { force: true }); // truncated by a crash, or tampered with: write it again
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes, { mode: 0o500 });
  fs.renameSync(tmp, file); // atomic: a concurrent start sees either no file or a complete one
  return file;
}

/** We are about to dlopen code from this directory: nobody but us (or root) may be able to write into it. */
function checkPrivate(dir: string): void {
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error('not a directory');
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) throw new Error(`owned by uid ${st.uid}, not by us (${uid})`);
  if ((st.mode & 0o022) !== 0) throw new Error(`writable by group or others (mode ${(st.mode & 0o777).toString(8)})`);
}

function dlopen(file: string): unknown {
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod, file, os.constants.dlopen.RTLD_NOW);
  } catch (e) {
    throw new Error(
      `cannot dlopen ${file}: ${(e as Error).message} ` +
        `(the addon needs the OS, CPU architecture and C library the executable was built on)`,
    );
  }
  return mod.exports;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
