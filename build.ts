// build.ts (`npm run build`): bundles src/main.ts with esbuild and produces
//   dist/masakari       one executable (Node single-executable application, "SEA") with the native addons embedded
//   dist/masakari.mjs   the same program as one plain script, for `node dist/masakari.mjs` (package.json "bin")
//   dist/native/*.node  the native addons for masakari.mjs (the executable does not need them)
// Options: --outdir DIR (default dist), --no-sea (only the plain script; e.g. on a Node without SEA support).
// Why the bundle is shaped the way it is: docs/packaging.md.

import * as esbuild from 'esbuild';
import { builtinModules, createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.dirname(fileURLToPath(import.meta.url));
const requireHere = createRequire(path.join(root, 'package.json'));
const pkg = requireHere('./package.json') as { version: string };

/** Native addons the bundle may contain, by file name. Any other `.node` file fails the build. */
const NATIVE_ADDONS = ['better_sqlite3.node', 'koffi.node'] as const;

// Node's SEA fuse: a fixed string in every official node binary, flipped by postject when a blob is injected.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const LOADER = path.join(root, 'scripts/sea/native.ts');

// Names the bundle body uses for what the two wrappers (ESM script, SEA CommonJS script) provide.
const G = {
  require: '__masakari_require',
  url: '__masakari_import_meta_url',
  filename: '__masakari_filename',
  dirname: '__masakari_dirname',
  resolve: '__masakari_import_meta_resolve',
} as const;

export interface BuildOptions {
  outdir: string;
  sea: boolean;
}

export async function build(opts: BuildOptions): Promise<void> {
  const started = Date.now();
  const out = path.resolve(opts.outdir);
  // What an earlier build wrote is replaced; Debian packages (`npm run package`, scripts/package.ts) are left alone.
  // Refuse a directory that holds anything else (a typo in --outdir).
  const ours = new Set(['masakari', 'masakari.mjs', 'native', 'sea']);
  const isPackage = (n: string) => /^masakari_.+\.deb$/.test(n);
  const foreign = fs.existsSync(out) ? fs.readdirSync(out).filter((n) => !ours.has(n) && !isPackage(n)) : [];
  if (foreign.length) throw new Error(`build: ${out} holds files a build does not write (${foreign.join(', ')}); refusing to delete it`);
  for (const n of ours) fs.rmSync(path.join(out, n), { recursive: true, force: true });
  fs.mkdirSync(path.join(out, 'native'), { recursive: true });

  const addons = locateAddons();
  for (const [name, file] of addons) fs.copyFileSync(file, path.join(out, 'native', name));

  const body = await bundle();
  const mjs = path.join(out, 'masakari.mjs');
  fs.writeFileSync(mjs, esmWrapper(body), { mode: 0o755 });
  log(`wrote ${rel(mjs)} (${kib(mjs)})`);

  if (opts.sea) {
    const exe = singleExecutable(out, body, addons);
    smokeTest(exe);
    log(`wrote ${rel(exe)} (${kib(exe)})`);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Finds the addon files the way the libraries themselves do: load them here, then read which `.node` files ended
 * up in the module cache. This follows each library's own platform/libc choice and proves the files load with
 * this Node (better-sqlite3 is built for one Node ABI; the executable embeds this very Node).
 */
function locateAddons(): Map<string, string> {
  const Database = requireHere('better-sqlite3') as new (file: string) => { close(): void };
  new Database(':memory:').close();
  requireHere('koffi');
  const found = new Map<string, string>();
  for (const file of Object.keys(requireHere.cache)) {
    const name = path.basename(file);
    if ((NATIVE_ADDONS as readonly string[]).includes(name)) found.set(name, file);
  }
  for (const name of NATIVE_ADDONS) {
    if (!found.has(name)) throw new Error(`build: could not locate native addon ${name} (is node_modules installed?)`);
  }
  return found;
}

async function bundle(): Promise<string> {
  const seen = { bindings: false, koffiLoader: false };
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'src/main.ts')],
    bundle: true,
    platform: 'node',
    // ESM, because main.ts (and any module) may use top-level await; the SEA wrapper turns the result into a
    // CommonJS script by putting it inside an async function (see seaProgram).
    format: 'esm',
    target: 'node20.19',
    outfile: path.join(root, 'dist/masakari.mjs'), // only names the output; nothing is written (write: false)
    write: false,
    metafile: true,
    // No keepNames: it wraps every function, including per-request closures inside hono, in a defineProperty call
    // (7% of a cached GET). Error classes set their own `name`; nothing reads function names.
    legalComments: 'eof',
    logLevel: 'warning',
    define: {
      'import.meta.url': G.url,
      'import.meta.filename': G.filename,
      'import.meta.dirname': G.dirname,
      'import.meta.resolve': G.resolve, // yargs, for `extends` in config objects (unused by masakari)
    },
    plugins: [builtinsPlugin(), nativePlugin(seen)],
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (!output || result.outputFiles.length !== 1) throw new Error('build: esbuild produced no single output');
  // The body must be a plain script apart from top-level await: the SEA wrapper cannot hold import/export.
  if (output.imports.length || output.exports.length) {
    throw new Error(`build: bundle still has imports/exports: ${JSON.stringify([output.imports, output.exports])}`);
  }
  // esbuild keeps main.ts's `#!` line; the wrappers put the body after other code, where it is a syntax error.
  const body = result.outputFiles[0]!.text.replace(/^#!.*\n/, '');
  if (/\bimport\.meta\b/.test(body)) throw new Error('build: bundle uses import.meta beyond url/filename/dirname/resolve');
  const inputs = Object.keys(result.metafile.inputs).join('\n');
  if (/node_modules\/better-sqlite3\//.test(inputs) && !seen.bindings) {
    throw new Error('build: better-sqlite3 is bundled but its `bindings` loader was not redirected (check build.ts)');
  }
  if (/node_modules\/koffi\//.test(inputs) && !seen.koffiLoader) {
    throw new Error('build: koffi is bundled but its platform loader (src/static.cjs) was not replaced (check build.ts)');
  }
  return body;
}

/** Node built-ins become `__masakari_require('node:x')`, so the body has no import statements (see bundle()). */
function builtinsPlugin(): esbuild.Plugin {
  const names = builtinModules.filter((n) => !n.startsWith('_')).map((n) => n.replace(/[/]/g, '\\/'));
  const filter = new RegExp(`^(node:.+|${names.join('|')})$`);
  return {
    name: 'masakari-builtins',
    setup(b) {
      b.onResolve({ filter }, (args) => ({
        path: args.path.startsWith('node:') ? args.path : `node:${args.path}`,
        namespace: 'masakari-builtin',
      }));
      b.onLoad({ filter: /.*/, namespace: 'masakari-builtin' }, (args) => ({
        contents: `module.exports = ${G.require}(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * The only per-library knowledge in the build: where better-sqlite3 and koffi load their addon, redirected to
 * scripts/sea/native.ts. Any other `.node` import stops the build with a clear message.
 */
function nativePlugin(seen: { bindings: boolean; koffiLoader: boolean }): esbuild.Plugin {
  const loaderRequire = `require(${JSON.stringify(LOADER)})`;
  return {
    name: 'masakari-native',
    setup(b) {
      // better-sqlite3: `require('bindings')('better_sqlite3.node')`.
      b.onResolve({ filter: /^bindings$/ }, () => {
        seen.bindings = true;
        return { path: 'bindings', namespace: 'masakari-native' };
      });
      b.onLoad({ filter: /^bindings$/, namespace: 'masakari-native' }, () => ({
        contents:
          `const { loadNativeAddon } = ${loaderRequire};\n` +
          `module.exports = (o) => { const n = typeof o === 'string' ? o : o.bindings; ` +
          `return loadNativeAddon(n.endsWith('.node') ? n : n + '.node'); };`,
        resolveDir: root,
        loader: 'js',
      }));
      // koffi: its ESM entry loads the addon through createRequire(import.meta.url), which a bundler cannot
      // follow; its CommonJS entry uses plain require. Take the CommonJS one and replace its "static" loader
      // (which would require('@koromix/koffi-<platform>')). Errors from our loader then surface unchanged.
      b.onResolve({ filter: /^koffi(\/indirect)?$/ }, (args) => ({
        path: createRequire(path.join(args.resolveDir || root, 'x.js')).resolve(args.path),
      }));
      b.onLoad({ filter: /[\\/]node_modules[\\/]koffi[\\/]src[\\/]koffi[\\/]src[\\/]static\.c?js$/ }, () => {
        seen.koffiLoader = true;
        return {
          contents: `const { loadNativeAddon } = ${loaderRequire};\n` + `module.exports = { loadStatic: () => loadNativeAddon('koffi.node') };`,
          resolveDir: root,
          loader: 'js',
        };
      });
      b.onResolve({ filter: /\.node$/ }, (args) => ({
        errors: [
          {
            text: `native addon ${args.path} (required by ${args.importer}) is not handled: add it to NATIVE_ADDONS and nativePlugin in build.ts`,
          },
        ],
      }));
    },
  };
}

/** dist/masakari.mjs: an ES module (top-level await works as is). */
function esmWrapper(body: string): string {
  return `#!/usr/bin/env node
// masakari ${pkg.version}: bundled by build.ts. Needs dist/native/ beside it. Source: src/main.ts.
import { createRequire as __masakari_createRequire } from 'node:module';
import { fileURLToPath as __masakari_fileURLToPath } from 'node:url';
import { dirname as __masakari_dirnameOf } from 'node:path';
const ${G.url} = import.meta.url;
const ${G.filename} = __masakari_fileURLToPath(import.meta.url);
const ${G.dirname} = __masakari_dirnameOf(${G.filename});
const ${G.require} = __masakari_createRequire(import.meta.url);
const ${G.resolve} = (s) => import.meta.resolve(s);
// Bundled CommonJS packages use these free names.
const require = ${G.require}, __filename = ${G.filename}, __dirname = ${G.dirname};
${body}`;
}

/**
 * The program inside the executable (asset "masakari.cjs"): the body in an async function, so top-level await is
 * an await inside it. The SEA loader below compiles it and passes what a CommonJS module would have.
 */
function seaProgram(body: string): string {
  return `(async function (require, __filename, __dirname) {
"use strict";
// masakari ${pkg.version}: generated by build.ts from src/main.ts (bundled by esbuild).
const ${G.require} = require;
const ${G.filename} = __filename;
const ${G.dirname} = __dirname;
const ${G.url} = require('node:url').pathToFileURL(__filename).href;
const ${G.resolve} = (s) => require('node:url').pathToFileURL(require('node:module').createRequire(__filename).resolve(s)).href;
${body}
})`;
}

/**
 * The SEA main script. Node 20 runs exactly one CommonJS script there, and that script cannot import() files from
 * disk ("A dynamic import callback was not specified") although masakari must (custom recovery task modules). So
 * the script only loads the program from an asset through vm.Script with Node's default ESM loader for import().
 */
function seaMain(): string {
  return `'use strict';
// masakari ${pkg.version}: SEA main script generated by build.ts. The program itself is the asset "masakari.cjs".
const vm = require('node:vm');
const sea = require('node:sea');
// vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER emits an "experimental feature" warning at the first import(); that
// is the executable's own plumbing, not something the operator can act on. Every other warning still prints.
const printers = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (String(w && w.message).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
  for (const print of printers) print.call(process, w);
});
// No V8 code cache (cachedData) here, although it would save ~0.1-0.4 s of compiling at each start: on Node 20.20,
// functions restored from a code cache lose the import() callback ("A dynamic import callback was not specified").
const script = new vm.Script(sea.getAsset('masakari.cjs', 'utf8'), {
  filename: 'masakari.cjs',
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const program = script.runInThisContext();
// The SEA's own require() loads built-in modules only, and prints a warning for anything else. Bundled packages
// probe for optional ones that are not there (mysql2 tries 'cardinal' in a try/catch): answer like Node does for
// a package that is not installed, without the warning. Nothing is loaded from disk this way.
const { isBuiltin } = require('node:module');
const notBundled = (id) =>
  Object.assign(new Error(\`Cannot find module '\${id}' (it is not bundled into the masakari executable)\`), { code: 'MODULE_NOT_FOUND' });
const programRequire = Object.assign((id) => { if (isBuiltin(id)) return require(id); throw notBundled(id); }, {
  resolve: (id) => { if (isBuiltin(id)) return id; throw notBundled(id); },
  main: require.main,
  cache: require.cache,
});
// A rejection ends the process like an unhandled one at the top level of an ES module would.
program(programRequire, __filename, __dirname).catch((e) => {
  process.stderr.write(\`masakari: \${(e && e.stack) || e}\\n\`);
  process.exit(1);
});
`;
}

function singleExecutable(out: string, body: string, addons: Map<string, string>): string {
  if (process.platform !== 'linux') {
    throw new Error(`build: the single executable is only built on Linux (this is ${process.platform}); use --no-sea`);
  }
  const node = process.execPath;
  if (!fs.readFileSync(node).includes(SEA_FUSE)) {
    throw new Error(
      `build: ${node} cannot become a single executable (no SEA fuse; distribution builds may strip it). ` +
        'Use an official Node binary (nodejs.org, the node:20 image) or build with --no-sea.',
    );
  }
  const work = path.join(out, 'sea');
  fs.mkdirSync(work, { recursive: true });
  // Relative names in sea-config (resolved against `work`, the cwd below), so nothing names the build machine.
  const main = path.join(work, 'main.cjs');
  const program = path.join(work, 'masakari.cjs');
  const blob = path.join(work, 'sea-prep.blob');
  const config = path.join(work, 'sea-config.json');
  fs.writeFileSync(main, seaMain());
  fs.writeFileSync(program, seaProgram(body));
  fs.writeFileSync(
    config,
    JSON.stringify(
      {
        main: path.basename(main),
        output: path.basename(blob),
        disableExperimentalSEAWarning: true,
        assets: {
          'masakari.cjs': path.basename(program),
          ...Object.fromEntries([...addons.keys()].map((name) => [`native/${name}`, path.join('..', 'native', name)])),
        },
      },
      null,
      2,
    ),
  );
  run(node, ['--experimental-sea-config', config], work);

  const exe = path.join(out, 'masakari');
  fs.copyFileSync(node, exe);
  fs.chmodSync(exe, 0o755);
  // postject in a child process: its WebAssembly copy of LIEF holds the whole ~100 MB executable in memory, and
  // prints one harmless warning per ELF note section ("Can't find string offset ...") that we filter out.
  const postject = path.join(path.dirname(requireHere.resolve('postject')), 'cli.js');
  const output = run(node, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], work);
  const noise = /^(warning: Can't find string offset for section name|Start injection|💉 Injection done)/;
  const rest = output
    // eslint-disable-next-line no-control-regex -- postject colours its output with ANSI escapes
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => l.trim() && !noise.test(l));
  if (rest.length) log(`postject: ${rest.join('\n')}`);
  fs.rmSync(blob); // as large as the bundle plus the addons, and inside the executable now
  return exe;
}

function smokeTest(exe: string): void {
  const r = spawnSync(exe, ['--version'], { encoding: 'utf8', cwd: path.dirname(exe) });
  if (r.status !== 0 || r.stdout.trim() !== pkg.version) {
    throw new Error(`build: ${exe} --version failed (status ${r.status}): ${r.stdout}${r.stderr}`);
  }
}

/** Runs a program to completion; returns its stdout and stderr, or throws with them. */
function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build: ${cmd} ${args.join(' ')} failed (status ${r.status}):\n${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

const rel = (p: string) => path.relative(process.cwd(), p) || p;
const kib = (p: string) => `${Math.round(fs.statSync(p).size / 1024)} KiB`;
const log = (msg: string) => process.stderr.write(`build: ${msg}\n`);

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { outdir: { type: 'string', default: path.join(root, 'dist') }, 'no-sea': { type: 'boolean', default: false } },
  });
  try {
    await build({ outdir: values.outdir, sea: !values['no-sea'] });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
}
