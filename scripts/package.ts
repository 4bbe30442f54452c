// scripts/package.ts (`npm run package`): the Debian package dist/masakari_<version>_<arch>.deb, made with dpkg-deb
// only (no debhelper, no compiler). What goes in and why: docs/packaging.md, "Debian package".
//
//   tsx scripts/package.ts [--outdir DIR] [--build DIR] [--version V]
//     --outdir   where the .deb goes (default dist/)
//     --build    an existing `npm run build` output to package (default: build now, into a temporary directory)
//     --version  the package version (default package.json's; tests use it to make an "older" package)

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from '../build.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgJson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; description: string; license: string };
const MAINTAINER = 'Masakari developers <masakari@lists.openinfra.dev>';

/** Debian's names for Node's process.arch values we can build on. */
const DEB_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

export interface PackageOptions {
  outdir: string;
  /** A finished `npm run build` output (holding the executable `masakari`); built now when absent. */
  buildDir?: string;
  version?: string;
}

export async function makePackage(opts: PackageOptions): Promise<string> {
  const version = opts.version ?? pkgJson.version;
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) throw new Error(`package: ${version} is not a Debian version`);
  const arch = DEB_ARCH[process.arch];
  if (!arch || process.platform !== 'linux') throw new Error(`package: no Debian architecture for ${process.platform}/${process.arch}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'masakari-pkg-'));
  try {
    let buildDir = opts.buildDir;
    if (!buildDir) {
      buildDir = path.join(work, 'build');
      await build({ outdir: buildDir, sea: true });
    }
    const exe = path.join(buildDir, 'masakari');
    if (!fs.existsSync(exe)) throw new Error(`package: ${exe} does not exist (a build with --no-sea cannot be packaged)`);

    const stage = path.join(work, 'root');
    stageFiles(stage, exe, version);
    const control = path.join(stage, 'DEBIAN');
    fs.mkdirSync(control, { mode: 0o755 });
    writeControl(control, stage, version, arch);

    fs.mkdirSync(opts.outdir, { recursive: true });
    const deb = path.join(path.resolve(opts.outdir), `masakari_${version}_${arch}.deb`);
    // --root-owner-group: every file root:root whoever builds. xz at level 3: the executable is ~100 MB and level 6
    // takes minutes on a small machine for a few MB less.
    run('dpkg-deb', ['--root-owner-group', '-Zxz', '-z3', '--build', stage, deb]);
    log(`wrote ${path.relative(process.cwd(), deb) || deb} (${Math.round(fs.statSync(deb).size / 1024)} KiB)`);
    return deb;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function stageFiles(stage: string, exe: string, version: string): void {
  const put = (rel: string, content: string | Buffer, mode: number) => {
    const file = path.join(stage, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode); // writeFileSync's mode is filtered by the umask
  };
  const src = (rel: string) => fs.readFileSync(path.join(root, rel));

  put('usr/lib/masakari/masakari', fs.readFileSync(exe), 0o755);
  // The addons, extracted now by the executable itself (the very files and names it looks for, verified by hash at
  // every start), so the services never write code anywhere (docs/packaging.md, "Native addons").
  const addons = path.join(stage, 'usr/lib/masakari/addons');
  fs.mkdirSync(addons, { recursive: true, mode: 0o755 });
  const r = spawnSync(path.join(stage, 'usr/lib/masakari/masakari'), ['selftest', 'native'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', XDG_CACHE_HOME: addons },
  });
  if (r.status !== 0) throw new Error(`package: the executable's selftest failed (status ${r.status}):\n${r.stdout}${r.stderr}`);
  for (const f of walk(addons)) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
  const extracted = walk(addons).filter((f) => f.endsWith('.node'));
  if (extracted.length !== 2) throw new Error(`package: expected 2 extracted addons, found ${extracted.join(', ') || 'none'}`);

  put('usr/bin/masakari', src('packaging/debian/wrapper.sh'), 0o755);
  put('etc/masakari/masakari.yaml', src('config.example.yaml'), 0o640);
  for (const role of ['controller', 'compute', 'all']) {
    put(`lib/systemd/system/masakari-${role}.service`, src(`packaging/systemd/masakari-${role}.service`), 0o644);
  }
  put('usr/share/man/man1/masakari.1.gz', gzipSync(src('packaging/debian/masakari.1'), { level: 9 }), 0o644);
  put('usr/share/doc/masakari/copyright', copyright(), 0o644);
  put('usr/share/doc/masakari/changelog.gz', gzipSync(changelog(version), { level: 9 }), 0o644);
  put('usr/share/doc/masakari/README.Debian', src('packaging/debian/README.Debian'), 0o644);
  put('usr/share/lintian/overrides/masakari', src('packaging/debian/lintian-overrides'), 0o644);
  for (const d of walk(stage)) if (fs.statSync(d).isDirectory()) fs.chmodSync(d, 0o755);
}

function writeControl(control: string, stage: string, version: string, arch: string): void {
  const files = walk(stage).filter((f) => !f.startsWith(control) && fs.statSync(f).isFile());
  const installedKiB = Math.ceil(files.reduce((n, f) => n + fs.statSync(f).size, 0) / 1024);
  const description = pkgJson.description;
  fs.writeFileSync(
    path.join(control, 'control'),
    [
      'Package: masakari',
      `Version: ${version}`,
      `Architecture: ${arch}`,
      `Maintainer: ${MAINTAINER}`,
      `Installed-Size: ${installedKiB}`,
      // libc6/libstdc++6: the executable (Node) and the addons. libvirt0: the compute role's monitors and the
      // libvirt compute driver load libvirt.so.0. adduser: postinst creates the system user.
      'Depends: adduser, libc6 (>= 2.28), libstdc++6, libvirt0',
      // Fencing (fencing.hosts): ipmitool, or the fence agents.
      'Recommends: ipmitool, fence-agents',
      // crm_mon for the compute role's Pacemaker host monitor.
      'Suggests: pacemaker-cli-utils',
      'Section: admin',
      'Priority: optional',
      'Homepage: https://docs.openstack.org/masakari/',
      `Description: ${description.split(':')[0]}`,
      ...wrap(
        `${description}. One executable for every role: the controller serves the instance high availability API ` +
          'and runs the recovery engine (fencing, evacuation through Nova or libvirt); the compute agent watches ' +
          'instances, processes and hosts on each hypervisor and reports failures to the controller.',
      ),
      ' .',
      ...wrap(
        'This package ships systemd units for the controller, the compute agent and both in one process; none is ' +
          'enabled on installation. The SQLite store and the compute outbox live in /var/lib/masakari.',
      ),
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(control, 'conffiles'), '/etc/masakari/masakari.yaml\n');
  for (const script of ['postinst', 'prerm', 'postrm']) {
    fs.copyFileSync(path.join(root, 'packaging/debian', script), path.join(control, script));
    fs.chmodSync(path.join(control, script), 0o755);
  }
  const sums = files.map((f) => `${createHash('md5').update(fs.readFileSync(f)).digest('hex')}  ${path.relative(stage, f)}`);
  fs.writeFileSync(path.join(control, 'md5sums'), `${sums.sort().join('\n')}\n`);
  for (const f of ['control', 'conffiles', 'md5sums']) fs.chmodSync(path.join(control, f), 0o644);
}

/** A control-file description body: lines of at most 79 characters, each starting with a space. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > 78) {
      lines.push(` ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(` ${line}`);
  return lines;
}

function changelog(version: string): string {
  // SOURCE_DATE_EPOCH (reproducible builds) when given; otherwise the time of the build.
  const epoch = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) * 1000 : Date.now();
  const date = new Date(epoch).toUTCString().replace(/GMT$/, '+0000');
  return `masakari (${version}) unstable; urgency=medium\n\n  * Package built from the masakari source tree (npm run package).\n\n -- ${MAINTAINER}  ${date}\n`;
}

/** DEP-5 copyright: masakari itself, plus what the executable bundles (Node.js and the npm dependencies). */
function copyright(): string {
  const bundled = bundledLicenses();
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: masakari',
    `Comment: /usr/lib/masakari/masakari is a Node.js ${process.version} single executable that bundles these npm packages:`,
    ...bundled.map(([name, license]) => `  ${name}: ${license}`),
    ' Node.js itself is under the MIT license with the notices of its bundled components (V8, OpenSSL, libuv, ICU...);',
    ' see https://github.com/nodejs/node/blob/main/LICENSE. The SQLite library in better_sqlite3.node is public domain.',
    '',
    'Files: *',
    'Copyright: masakari developers',
    'License: Apache-2.0',
    ' On Debian systems the full text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.',
    '',
  ].join('\n');
}

/** The license of every production dependency (and theirs), read from node_modules as installed. */
function bundledLicenses(): [string, string][] {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; license?: string; version?: string; optional?: boolean }>;
  };
  const out: [string, string][] = [];
  for (const [where, p] of Object.entries(lock.packages)) {
    if (!where.startsWith('node_modules/') || p.dev) continue;
    const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!fs.existsSync(path.join(root, where))) continue; // optional packages for other platforms
    out.push([`${name} ${p.version ?? ''}`.trim(), p.license ?? 'see the package']);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

function walk(dir: string): string[] {
  const out: string[] = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`package: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`package: ${cmd} ${args.join(' ')} failed (status ${r.status}):\n${r.stdout}${r.stderr}`);
}

const log = (msg: string) => process.stderr.write(`package: ${msg}\n`);

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      outdir: { type: 'string', default: path.join(root, 'dist') },
      build: { type: 'string' },
      version: { type: 'string' },
    },
  });
  try {
    await makePackage({
      outdir: values.outdir,
      ...(values.build ? { buildDir: values.build } : {}),
      ...(values.version ? { version: values.version } : {}),
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
}
