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
    throw new Error(`native addon ${name} is not embedded in this executable: ${(e as Error).message}`, { cause: e });
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
    `cannot load native addon ${name}; point XDG_CACHE_HOME at a directory that only this user (or root) can ` +
      `write, on a filesystem mounted without noexec (the addon goes to $XDG_CACHE_HOME/masakari/native). ` +
      `Tried:\n  ${problems.join('\n  ')}`,
  );
}

/**
 * Where extracted addons are kept, tried in order. No MASAKARI_* variable: those are all configuration keys
 * (src/core/config/load.ts rejects unknown ones), and the addons load before or without any configuration.
 */
export function cacheDirs(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): string[] {
  const dirs: string[] = [];
  if (env.XDG_CACHE_HOME) dirs.push(path.join(env.XDG_CACHE_HOME, 'masakari', 'native'));
  if (env.HOME) dirs.push(path.join(env.HOME, '.cache', 'masakari', 'native'));
  dirs.push(path.join(os.tmpdir(), `masakari-${uid ?? 'user'}`, 'native'));
  return [...new Set(dirs)];
}

function extract(dir: string, name: string, bytes: Buffer, digest: string): string {
  mkdirs(dir);
  checkPrivate(dir);
  // The hash in the name lets two masakari versions share a directory; old files are left alone on purpose
  // (another running version may still need them).
  const file = path.join(dir, `${digest.slice(0, 16)}-${name}`);
  if (fs.existsSync(file)) {
    if (sha256(fs.readFileSync(file)) === digest) return file;
    fs.rmSync(file, { force: true }); // truncated by a crash, or tampered with: write it again
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true }); // left by a crashed start that had our pid; read-only, so not overwritable
  fs.writeFileSync(tmp, bytes, { mode: 0o500 });
  fs.renameSync(tmp, file); // atomic: a concurrent start sees either no file or a complete one
  return file;
}

/**
 * mkdir -p with mode 0700. Not fs.mkdirSync({ recursive }): on Node 20 it loops forever when the kernel answers
 * ENOENT for a directory whose parent exists (e.g. anything under /proc).
 */
function mkdirs(dir: string): void {
  const parent = path.dirname(dir);
  if (parent !== dir && !fs.existsSync(parent)) mkdirs(parent);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/**
 * We are about to dlopen code from `dir`: nobody but us (or root) may be able to change what is in it. The
 * directory itself must be ours (or root's) and writable by nobody else; each parent too, except that a
 * sticky directory such as /tmp may be shared (others can add entries there but not move ours away).
 */
export function checkPrivate(dir: string, uid = process.getuid?.()): void {
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  for (let d = dir, leaf = true; ; leaf = false) {
    const s = leaf ? st : fs.statSync(d);
    if (uid !== undefined && s.uid !== uid && s.uid !== 0) throw new Error(`${d} is owned by uid ${s.uid}, not by us (${uid}) or root`);
    const sticky = (s.mode & 0o1000) !== 0;
    if ((s.mode & 0o022) !== 0 && (leaf || !sticky)) {
      throw new Error(`${d} is writable by group or others (mode ${(s.mode & 0o7777).toString(8)})`);
    }
    const parent = path.dirname(d);
    if (parent === d) break;
    d = parent;
  }
}

function dlopen(file: string): unknown {
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod, file, os.constants.dlopen.RTLD_NOW);
  } catch (e) {
    throw new Error(
      `cannot dlopen ${file}: ${(e as Error).message} ` + `(the addon needs the OS, CPU architecture and C library the executable was built on)`,
      { cause: e },
    );
  }
  return mod.exports;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
