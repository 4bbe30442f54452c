// scripts/lab.sh as a new user meets it (issue 16, items 10 to 12): failures exit non-zero before libvirtd is
// started, Ctrl-C ends the lab (masakari, then the private libvirtd) with exit 0, and `--stop-vms` stops the VMs the
// lab left running. LAB_NO_INSTALL=1 skips apt-get and npm ci (the test machine has everything).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, libvirtLabAvailable, LIBVIRT_LAB_COMPONENT } from '../labs/libvirt/lab.ts';
import { tinyDomainXml } from '../labs/libvirt/tiny-domain.ts';
import { haveCommand, requireComponent } from '../support/components.ts';
import { repoRoot, waitFor } from '../support/cli.ts';
import { freePort } from './allinone-lab.ts';

const LAB_SH = join(repoRoot, 'scripts', 'lab.sh');
const isRoot = process.getuid?.() === 0;
const ROOT = 'root (scripts/lab.sh refuses to run otherwise) and flock (util-linux)';

/** A lab started by lab.sh in its own process group, as a terminal runs it; output collected. */
function startLab(dataDir: string, env: Record<string, string>, args: string[] = []) {
  const child = spawn('bash', [LAB_SH, ...args], {
    env: { ...process.env, LAB_NO_INSTALL: '1', LAB_DATA_DIR: dataDir, MASAKARI_LOG__FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, exited, output: () => out };
}

function runLab(dataDir: string, env: Record<string, string>, args: string[] = []) {
  const r = spawnSync('bash', [LAB_SH, ...args], {
    env: { ...process.env, LAB_NO_INSTALL: '1', LAB_DATA_DIR: dataDir, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Kills whatever a lab in dataDir may have left (QEMU processes, the private libvirtd), by their pid files. */
function killLeftovers(dataDir: string): void {
  const qemuDir = join(dataDir, 'libvirt', 'run', 'qemu');
  const pids = existsSync(qemuDir)
    ? readdirSync(qemuDir)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => join(qemuDir, f))
    : [];
  pids.push(join(dataDir, 'libvirt', 'libvirtd.pid'));
  for (const f of pids) {
    if (!existsSync(f)) continue;
    const pid = Number(readFileSync(f, 'utf8').trim());
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

describe('scripts/lab.sh', { timeout: 300_000 }, () => {
  it('a bad configuration exits 2 naming the key, before starting libvirtd', async (t) => {
    if (!requireComponent(t, ROOT, isRoot && haveCommand('flock'))) return;
    const dir = mkdtempSync(join(tmpdir(), 'masakari-labsh-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const r = runLab(dir, { MASAKARI_API__AUTH_STRATEGY: 'nobody', MASAKARI_API__LISTEN: `127.0.0.1:${await freePort()}` });
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /api\.auth_strategy/);
    assert.doesNotMatch(r.out, /libvirtd/);
    assert.equal(existsSync(join(dir, 'libvirt')), false, 'no libvirtd state was created');
  });

  it('refuses a second lab on the same data directory, with a clear message', async (t) => {
    if (!requireComponent(t, ROOT, isRoot && haveCommand('flock'))) return;
    const dir = mkdtempSync(join(tmpdir(), 'masakari-labsh-'));
    // The first lab, as far as the lock is concerned.
    const holder = spawn('flock', [join(dir, 'lab.lock'), 'sleep', '60'], { stdio: 'ignore' });
    t.after(() => {
      holder.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    await waitFor(async () => (spawnSync('flock', ['-n', join(dir, 'lab.lock'), 'true']).status === 1 ? true : undefined), 10_000, 'the lock held');
    const r = runLab(dir, { MASAKARI_API__LISTEN: `127.0.0.1:${await freePort()}` });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`another lab is running on ${dir}`));
    assert.match(r.out, /LAB_DATA_DIR and MASAKARI_API__LISTEN/);
    assert.equal(existsSync(join(dir, 'libvirt')), false, 'no libvirtd state was created');
  });

  it('the API port taken: exit 1 with a clear message, before starting libvirtd', async (t) => {
    if (!requireComponent(t, ROOT, isRoot && haveCommand('flock'))) return;
    const dir = mkdtempSync(join(tmpdir(), 'masakari-labsh-'));
    const { port, server } = await occupiedPort();
    t.after(() => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const r = runLab(dir, { MASAKARI_API__LISTEN: `127.0.0.1:${port}` });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`the API address 127\\.0\\.0\\.1:${port} is in use`));
    assert.equal(existsSync(join(dir, 'libvirt')), false, 'no libvirtd state was created');
  });

  it('Ctrl-C ends the lab (exit 0, libvirtd stopped, VMs left running); --stop-vms stops those VMs', async (t) => {
    if (
      !requireComponent(
        t,
        `${LIBVIRT_LAB_COMPONENT} + virsh + flock + setsid`,
        libvirtLabAvailable() && haveCommand('virsh') && haveCommand('flock') && haveCommand('setsid'),
      )
    )
      return;
    // lab.sh would use (and this test would touch) the machine's own libvirtd: the test needs a machine without one.
    // Like any missing component, that fails under CI instead of skipping.
    const systemLibvirtd = spawnSync('virsh', ['-q', '-c', 'qemu:///system', 'version'], { stdio: 'ignore' }).status === 0;
    if (!requireComponent(t, 'a machine without a system libvirtd at qemu:///system', !systemLibvirtd)) return;
    const dir = mkdtempSync(join(tmpdir(), 'masakari-labsh-'));
    t.after(() => {
      killLeftovers(dir);
      if (process.env.KEEP_TEST_LAB !== '1') rmSync(dir, { recursive: true, force: true });
    });
    const lab = startLab(dir, { MASAKARI_API__LISTEN: `127.0.0.1:${await freePort()}`, MASAKARI_SHUTDOWN_TIMEOUT: '5' });
    t.after(() => {
      if (lab.child.exitCode === null && lab.child.signalCode === null) process.kill(-lab.child.pid!, 'SIGKILL');
    });
    await waitFor(async () => (/all-in-one role running/.test(lab.output()) ? true : undefined), 90_000, `the lab running:\n${lab.output()}`);
    const uri = /export LIBVIRT_DEFAULT_URI='([^']+)'/.exec(lab.output())![1]!;
    const virsh = (...a: string[]) => spawnSync('virsh', ['-q', '-c', uri, ...a], { encoding: 'utf8', timeout: 30_000 });
    const xml = join(dir, 'tiny.xml');
    writeFileSync(xml, tinyDomainXml({ name: 'tiny', uuid: 'a0e1c5d2-0000-4000-8000-00000000dd01' }));
    assert.equal(virsh('define', xml).status, 0);
    assert.equal(virsh('start', 'tiny').status, 0);
    const pidFile = join(dir, 'libvirt', 'run', 'qemu', 'tiny.pid');
    const qemu = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(alive(qemu));

    const libvirtdPidFile = join(dir, 'libvirt', 'libvirtd.pid');
    const libvirtd = Number(readFileSync(libvirtdPidFile, 'utf8').trim());

    // Ctrl-C: SIGINT to the terminal's foreground process group (lab.sh and masakari; libvirtd has its own session).
    const t0 = Date.now();
    process.kill(-lab.child.pid!, 'SIGINT');
    const exit = await Promise.race([lab.exited, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
    assert.ok(exit, `lab.sh still running 15 s after Ctrl-C:\n${lab.output().slice(-3000)}`);
    assert.deepEqual(exit, { code: 0, signal: null }, lab.output().slice(-3000));
    assert.ok(Date.now() - t0 < 15_000);
    assert.match(lab.output(), /stopping the lab's libvirtd/);
    assert.equal(alive(libvirtd), false, 'the private libvirtd is stopped');
    assert.ok(alive(qemu), 'the VM is left running');

    // docs/lab.md's clean-up: the VMs left running, stopped through the lab's own libvirtd.
    const stop = runLab(dir, {}, ['--stop-vms']);
    assert.equal(stop.code, 0, stop.out);
    assert.match(stop.out, /stopping VM tiny/);
    assert.match(stop.out, /1 VM\(s\) stopped/);
    await waitFor(async () => (alive(qemu) ? undefined : true), 10_000, 'the VM stopped');
    // The libvirtd it started is gone again (libvirtd removes its pid file when it stops cleanly).
    assert.equal(existsSync(libvirtdPidFile), false, 'the libvirtd of --stop-vms stopped');
  });
});
