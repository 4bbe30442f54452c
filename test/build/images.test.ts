// The container image and the compose deployment, checked with what runs here: no container engine can build or
// run images on this machine (the docker CLI may be present, but no daemon, and the base images could not be
// pulled), so the Dockerfile is read and its promises checked against the repository, and deploy/compose/ is
// validated by the real docker-compose (`config`: schema, interpolation, dependencies) and by masakari's own
// `config check` on each service's configuration file and environment. Building and starting the images is left to
// a machine with a container engine (docs/packaging.md, "Images").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { loadConfig } from '../../src/core/config/load.ts';
import { checkSemantics } from '../../src/core/config/semantic.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { repoRoot, runCli } from '../support/cli.ts';

const run = promisify(execFile);
const COMPOSE_DIR = join(repoRoot, 'deploy/compose');
const COMPOSE = join(COMPOSE_DIR, 'compose.yaml');

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function dockerfile(): { op: string; args: string }[] {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

/** The roles `masakari --help` names (controller|compute|all). */
async function roles(): Promise<string[]> {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0, help.stderr);
  const m = /--role=([a-z|]+)/.exec(help.stdout);
  assert.ok(m, 'the help names the roles');
  return m[1]!.split('|');
}

/** A container command is either a role or a CLI command the executable knows (its --help answers 0). */
async function assertRunnable(cmd: string[], knownRoles: string[]): Promise<void> {
  const role = cmd.find((a) => a.startsWith('--role='));
  if (role) {
    assert.ok(knownRoles.includes(role.slice('--role='.length)), `${role} is a role of masakari`);
    return;
  }
  const r = await runCli([...cmd, '--help']);
  assert.equal(r.code, 0, `masakari ${cmd.join(' ')} is a command: ${r.stderr}`);
}

test('Dockerfile: one image, the executable as entrypoint and the role as its command; what it copies and runs exists', async () => {
  const ins = dockerfile();
  const froms = ins.filter((i) => i.op === 'FROM');
  assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
  const finalStage = ins.slice(ins.lastIndexOf(froms[froms.length - 1]!));
  const entry = JSON.parse(finalStage.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
  const cmd = JSON.parse(finalStage.find((i) => i.op === 'CMD')!.args) as string[];
  assert.equal(entry[entry.length - 1], '/usr/bin/masakari');
  // The build stage installs the executable where the entrypoint expects it, and the runtime copies that tree.
  assert.ok(
    ins.some((i) => i.op === 'RUN' && /install -D -m 0755 dist\/masakari \/out\/usr\/bin\/masakari/.test(i.args)),
    'the build stage installs dist/masakari as /out/usr/bin/masakari',
  );
  assert.ok(finalStage.some((i) => i.op === 'COPY' && /--from=build \/out\/ \//.test(i.args)));
  assert.ok(entry.every((p) => !p.startsWith('/') || p === '/usr/bin/masakari' || p === '/usr/bin/tini'));
  assert.ok(
    finalStage.some((i) => i.op === 'RUN' && /\btini\b/.test(i.args)),
    'tini (the entrypoint) is installed',
  );
  await assertRunnable(cmd, await roles());

  // COPY sources exist; `npm run build` is a script; .dockerignore keeps what the build needs.
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.ok(scripts.build, 'npm run build exists');
  for (const c of ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
    const sources = c.args.split(/\s+/).slice(0, -1);
    for (const s of sources) assert.ok(existsSync(join(repoRoot, s)), `COPY source ${s} exists`);
  }
  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim().replace(/^\//, ''))
    .filter((l) => l && !l.startsWith('#'));
  for (const needed of ['src', 'scripts', 'build.ts', 'tsconfig.json', 'package.json', 'package-lock.json']) {
    assert.ok(existsSync(join(repoRoot, needed)), `${needed} exists`);
    assert.ok(!ignored.includes(needed), `${needed} is not in .dockerignore`);
  }
  assert.ok(ignored.includes('node_modules'), 'node_modules comes from npm ci in the builder, never from the context');
});

test('deploy/compose: docker-compose accepts it; each masakari service runs a real command on a configuration masakari accepts', async (t) => {
  if (!requireComponent(t, 'docker-compose (Debian package docker-compose)', haveCommand('docker-compose'))) return;
  const env = { ...process.env, MASAKARI_DB_PASSWORD: 's3cret-for-the-test', LIBVIRT_GID: '64055' };
  // Without the password it refuses, naming the variable.
  const { MASAKARI_DB_PASSWORD: _p, ...noPassword } = env;
  const refused = await run('docker-compose', ['-f', COMPOSE, 'config', '-q'], { env: noPassword }).then(
    () => null,
    (e: { stderr: string }) => e.stderr,
  );
  assert.match(refused ?? '', /MASAKARI_DB_PASSWORD/);

  const { stdout } = await run('docker-compose', ['-f', COMPOSE, '--profile', 'compute', 'config'], { env });
  const resolved = parse(stdout) as {
    services: Record<
      string,
      {
        image: string;
        command?: string[];
        build?: { context: string; dockerfile: string };
        environment?: Record<string, string>;
        volumes?: { type: string; source: string; target: string }[] | string[];
        depends_on?: Record<string, { condition: string }>;
        network_mode?: string;
        group_add?: (string | number)[];
      }
    >;
  };
  const s = resolved.services;
  assert.deepEqual(Object.keys(s).sort(), ['compute', 'controller', 'db', 'db-sync']);
  // One image for every role, built from this repository's Dockerfile.
  const image = s.controller!.image;
  for (const name of ['db-sync', 'controller', 'compute']) assert.equal(s[name]!.image, image, `${name} runs the one masakari image`);
  assert.equal(resolve(s['db-sync']!.build!.context), resolve(repoRoot));
  assert.ok(existsSync(join(s['db-sync']!.build!.context, s['db-sync']!.build!.dockerfile)));
  // Order: MariaDB healthy -> schema migrated -> controller.
  assert.equal(s['db-sync']!.depends_on?.db?.condition, 'service_healthy');
  assert.equal(s.controller!.depends_on?.['db-sync']?.condition, 'service_completed_successfully');
  // The compute agent: host network, the host's libvirt socket directory, the libvirt group.
  assert.equal(s.compute!.network_mode, 'host');
  assert.deepEqual(s.compute!.group_add?.map(String), ['64055']);

  const knownRoles = await roles();
  for (const name of ['db-sync', 'controller', 'compute']) {
    const svc = s[name]!;
    await assertRunnable(svc.command!, knownRoles);
    const volumes = (svc.volumes ?? []).map((v) => (typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : v));
    if (name === 'compute')
      assert.ok(
        volumes.some((v) => v.target === '/run/libvirt' && v.source === '/run/libvirt'),
        'libvirt socket mounted',
      );
    const configMount = volumes.find((v) => v.target === svc.environment?.MASAKARI_CONFIG);
    assert.ok(configMount, `${name}: MASAKARI_CONFIG names a mounted file`);
    assert.ok(existsSync(configMount.source), `${name}: ${configMount.source} exists in the repository`);
    // masakari's own validation: the file alone (`config check`), then the file with the service's MASAKARI_*
    // variables through the same loader the roles use (an unknown key in either fails).
    const check = await runCli(['config', 'check', configMount.source]);
    assert.equal(check.code, 0, `${name}: ${check.stderr}${check.stdout}`);
    const vars = Object.fromEntries(Object.entries(svc.environment ?? {}).filter(([k]) => k.startsWith('MASAKARI_') && k !== 'MASAKARI_CONFIG'));
    assert.ok(Object.keys(vars).length > 0, `${name} sets its variables`);
    const config = checkSemantics(loadConfig({ file: configMount.source, env: vars }), configMount.source);
    if (name !== 'compute') assert.equal(config.database.url, 'mysql://masakari:s3cret-for-the-test@db:3306/masakari');
    else assert.equal(config.compute.controller.endpoint, 'http://127.0.0.1:15868/v1');
  }
});
