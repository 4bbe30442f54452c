// The tiny Linux guest of the test labs (README.md): built once per machine and kept in a cache directory (the
// build script is idempotent), booted by libvirt with <kernel>/<initrd>/<cmdline> under TCG.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libvirtLabAvailable, type LibvirtLab } from '../libvirt/lab.ts';
import { errorMessage } from '../../../src/core/errors.ts';

const BUILD_SCRIPT = new URL('./build-guest.sh', import.meta.url).pathname;
/** Built files live here across test runs; the script's stamp decides when they must be rebuilt. */
export const GUEST_CACHE_DIR = join(tmpdir(), 'masakari-test-guest');
/** The build takes 2–5 s here (copying and compressing ~10 MiB); a loaded machine gets many times that. */
const BUILD_TIMEOUT_MS = 120_000;

export const GUEST_COMPONENT = 'tiny test guest: libvirtd + QEMU lab, and linux-image-amd64 busybox-static qemu-guest-agent (.ci/install.d/guest.packages)';

function genericKernelInstalled(): boolean {
  try {
    return readdirSync('/lib/modules').some((k) => /-amd64$/.test(k) && !k.includes('cloud') && existsSync(`/boot/vmlinuz-${k}`));
  } catch {
    return false;
  }
}

/** True when the guest can be built and booted here. */
export function guestAvailable(): boolean {
  return libvirtLabAvailable() && genericKernelInstalled() && existsSync('/bin/busybox') && existsSync('/usr/sbin/qemu-ga');
}

export interface BuiltGuest {
  kernel: string;
  initrd: string;
  /** How long the build call took (about 0.1 s when the cache was current). */
  buildMs: number;
}

let building: Promise<BuiltGuest> | null = null;

/** Builds the guest (or finds it current in the cache). One build per process; concurrent builders are safe. */
export function buildGuest(): Promise<BuiltGuest> {
  building ??= new Promise((resolve, reject) => {
    const t0 = Date.now();
    execFile('bash', [BUILD_SCRIPT, GUEST_CACHE_DIR], { timeout: BUILD_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        building = null;
        reject(new Error(`building the test guest failed: ${errorMessage(err)}\n${stdout}${stderr}`));
        return;
      }
      resolve({ kernel: join(GUEST_CACHE_DIR, 'vmlinuz'), initrd: join(GUEST_CACHE_DIR, 'initramfs.cpio.gz'), buildMs: Date.now() - t0 });
    });
  });
  return building;
}

export interface GuestDisk {
  /** Backing file (raw), as QEMU sees it (QEMU runs in the lab's mount namespace). */
  path: string;
  /** What QEMU does on a write error: stop pauses the guest, report passes the error to it. */
  errorPolicy: 'stop' | 'report' | 'ignore' | 'enospace';
  /** The guest writes `mib` MiB of zeros to the disk this many seconds after boot. */
  writeAfterSec: number;
  mib?: number;
}

export interface GuestDomainOptions {
  name: string;
  uuid: string;
  guest: BuiltGuest;
  /** The guest's ttyS0 goes to this file (written by QEMU, appended to across restarts of the domain). */
  serialLog: string;
  /** Default true: the org.qemu.guest_agent.0 channel, so the guest's qemu-ga is reachable. */
  agentChannel?: boolean;
  /** An i6300esb watchdog with this action; the guest feeds it for `starveAfterSec` seconds, then stops. */
  watchdog?: { action: 'none' | 'reset' | 'pause' | 'poweroff' | 'shutdown'; starveAfterSec: number; heartbeatSec?: number };
  disk?: GuestDisk;
  memoryMiB?: number;
}

/**
 * A domain running the test guest. on_reboot is restart, so a watchdog reset really resets the guest (with destroy,
 * libvirt runs QEMU with -no-reboot and a reset would end the domain instead).
 */
export function guestDomainXml(o: GuestDomainOptions): string {
  const cmdline = ['console=ttyS0', 'loglevel=4', 'panic=-1'];
  if (o.watchdog) cmdline.push(`wd_starve=${o.watchdog.starveAfterSec}`, `wd_heartbeat=${o.watchdog.heartbeatSec ?? 2}`);
  if (o.disk) cmdline.push(`disk_write=${o.disk.writeAfterSec}`, `disk_mib=${o.disk.mib ?? 16}`);
  const agent = o.agentChannel === false ? '' : `<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>`;
  const watchdog = o.watchdog ? `<watchdog model='i6300esb' action='${o.watchdog.action}'/>` : '';
  const disk = o.disk
    ? `<disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='writeback' error_policy='${o.disk.errorPolicy}'/>
      <source file='${o.disk.path}'/>
      <target dev='vda' bus='virtio'/>
    </disk>`
    : '';
  return `<domain type='qemu'>
  <name>${o.name}</name>
  <uuid>${o.uuid}</uuid>
  <memory unit='MiB'>${o.memoryMiB ?? 128}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${o.guest.kernel}</kernel>
    <initrd>${o.guest.initrd}</initrd>
    <cmdline>${cmdline.join(' ')}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <serial type='file'><source path='${o.serialLog}' append='on'/><target port='0'/></serial>
    ${agent}
    ${watchdog}
    ${disk}
  </devices>
</domain>`;
}

/** The guest's console output so far ('' before QEMU created the file). */
export function serialText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** One guest-ping through virsh (the test's own view, independent of the code under test). */
export function virshGuestPing(uri: string, name: string, timeoutSec = 2): { ok: boolean; out: string } {
  try {
    const out = execFileSync('virsh', ['-q', '-c', uri, 'qemu-agent-command', name, '{"execute":"guest-ping"}', '--timeout', String(timeoutSec)], {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: out.trim() === '{"return":{}}', out: out.trim() };
  } catch (e) {
    // execFileSync's error carries virsh's stderr ("error: Guest agent is not responding: ...").
    const stderr = (e as { stderr?: unknown }).stderr;
    return { ok: false, out: (typeof stderr === 'string' && stderr ? stderr : errorMessage(e)).trim() };
  }
}

/** Waits until the guest's agent answers guest-ping; returns the milliseconds it took. */
export async function waitGuestAgent(uri: string, name: string, ms: number, serialLog?: string): Promise<number> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < ms) {
    const r = virshGuestPing(uri, name);
    if (r.ok) return Date.now() - t0;
    last = r.out;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = serialLog ? `\n--- guest console:\n${serialText(serialLog).split('\n').slice(-30).join('\n')}` : '';
  throw new Error(`guest ${name}: agent did not answer guest-ping within ${ms} ms; last: ${last}${tail}`);
}

/** Runs a command inside the guest through its agent (guest-exec), without waiting for it to finish. */
export function guestExec(uri: string, name: string, path: string, args: string[]): void {
  const cmd = JSON.stringify({ execute: 'guest-exec', arguments: { path, arg: args } });
  execFileSync('virsh', ['-q', '-c', uri, 'qemu-agent-command', name, cmd, '--timeout', '5'], { encoding: 'utf8', timeout: 30_000 });
}

/** Resident memory of a domain's QEMU process in MiB, or null when it is not running. */
export function qemuRssMiB(lab: LibvirtLab, name: string): number | null {
  const pid = lab.qemuPid(name);
  if (pid === null) return null;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

/**
 * Mounts a tmpfs of `mib` MiB at `dir` inside the lab's mount namespace (where libvirtd and QEMU run) and creates
 * a sparse raw disk of `diskMib` MiB in it: a disk whose backing file cannot grow past the filesystem. Nothing is
 * mounted on the machine itself; the mount goes away with the lab's namespace.
 */
export function smallFilesystemDisk(lab: LibvirtLab, dir: string, mib: number, diskMib: number): string {
  const pid = lab.libvirtdPid();
  if (pid === null) throw new Error('libvirt lab: libvirtd is not running');
  const file = join(dir, 'disk.raw');
  execFileSync('mkdir', ['-p', dir]);
  execFileSync(
    'nsenter',
    ['-t', String(pid), '-m', '--', 'sh', '-c', `mount -t tmpfs -o size=${mib}m tmpfs "$1" && truncate -s ${diskMib}M "$2"`, 'sh', dir, file],
    {
      timeout: 30_000,
    },
  );
  return file;
}
