// A private libvirtd + QEMU for tests and benchmarks: start it, get its URI, restart or kill it, stop it.
// Everything lives in a fresh mkdtemp directory; every process is stopped by PID (never by name).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand } from '../../support/components.ts';
import { LibvirtConnection } from '../../../src/drivers/libvirt/index.ts';

const SCRIPT = new URL('./start-libvirtd.sh', import.meta.url).pathname;

/** True when this machine can run the lab (root, libvirtd, QEMU, tini, unshare). */
export function libvirtLabAvailable(): boolean {
  return (
    process.getuid?.() === 0 &&
    existsSync('/usr/sbin/libvirtd') &&
    existsSync('/usr/bin/qemu-system-x86_64') &&
    haveCommand('tini') &&
    haveCommand('unshare') &&
    existsSync('/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so')
  );
}

export const LIBVIRT_LAB_COMPONENT = 'libvirtd + QEMU lab (libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 tini, as root)';

/** Whether a process with this PID exists (signal 0 probes without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`libvirt lab: timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export class LibvirtLab {
  readonly dir: string;
  readonly uri: string;
  readonly socket: string;
  private tini: ChildProcess | null = null;

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, 'run', 'libvirt-sock');
    this.uri = `qemu+unix:///system?socket=${this.socket}`;
  }

  /** Starts a lab in a fresh temp dir and waits until libvirtd accepts connections (about 2 s). */
  static async start(opts: { readyTimeoutMs?: number } = {}): Promise<LibvirtLab> {
    const lab = new LibvirtLab(mkdtempSync(join(tmpdir(), 'masakari-libvirt-lab-')));
    try {
      await lab.startDaemon(opts.readyTimeoutMs ?? 30_000);
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  /** PID of libvirtd itself (tini's child), or null when it is not running. */
  libvirtdPid(): number | null {
    const t = this.tini?.pid;
    if (t === undefined || !alive(t)) return null;
    try {
      const pid = Number(readFileSync(join(this.dir, 'libvirtd.pid'), 'utf8').trim());
      if (pid > 0 && childrenOf(t).includes(pid)) return pid;
    } catch {
      /* not written yet */
    }
    return null;
  }

  /** PID of the QEMU process of a running domain, from libvirt's own pid file. */
  qemuPid(domainName: string): number | null {
    const f = join(this.dir, 'run', 'qemu', `${domainName}.pid`);
    if (!existsSync(f)) return null;
    const pid = Number(readFileSync(f, 'utf8').trim());
    return pid > 0 && alive(pid) ? pid : null;
  }

  private async startDaemon(readyTimeoutMs: number): Promise<void> {
    const log = openSync(join(this.dir, 'libvirtd.log'), 'a');
    try {
      this.tini = spawn('bash', [SCRIPT], { env: { ...process.env, LAB: this.dir }, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const child = this.tini;
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor('the libvirtd socket', readyTimeoutMs, () => {
      if (exited) throw new Error(`libvirt lab: libvirtd exited during start-up; see ${join(this.dir, 'libvirtd.log')}:\n${this.logTail()}`);
      return existsSync(this.socket) && this.libvirtdPid() !== null;
    });
    // The socket appears before the QEMU driver is loaded: ready means a client gets a working connection.
    await waitFor('a libvirt connection to the lab', readyTimeoutMs, async () => {
      try {
        const c = await LibvirtConnection.openAsync(this.uri);
        c.close();
        return true;
      } catch {
        return false;
      }
    });
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(join(this.dir, 'libvirtd.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops libvirtd (SIGTERM, then SIGKILL after 10 s). QEMU processes keep running, as with a real restart. */
  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.tini;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    const daemon = this.libvirtdPid();
    if (signal === 'SIGKILL' && daemon !== null) {
      // A crash: libvirtd dies at once; tini then exits too.
      process.kill(daemon, 'SIGKILL');
    } else {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      if (daemon !== null && alive(daemon)) process.kill(daemon, 'SIGKILL');
      child.kill('SIGKILL');
    }, 10_000);
    await done;
    clearTimeout(timer);
    if (daemon !== null) await waitFor('libvirtd to exit', 10_000, () => !alive(daemon));
    rmSync(this.socket, { force: true });
    this.tini = null;
  }

  /** Stops libvirtd and starts it again on the same state: running domains are picked up again. */
  async restartDaemon(opts: { signal?: NodeJS.Signals; readyTimeoutMs?: number } = {}): Promise<void> {
    await this.stopDaemon(opts.signal ?? 'SIGTERM');
    await this.startDaemon(opts.readyTimeoutMs ?? 30_000);
  }

  /** Kills every QEMU process of this lab (by the PIDs in libvirt's pid files). */
  killAllQemu(): void {
    const dir = join(this.dir, 'run', 'qemu');
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.pid')) continue;
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      if (pid > 0 && alive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  }

  /** Stops everything the lab started and removes its directory (kept when KEEP_TEST_LAB=1, for debugging). */
  async stop(): Promise<void> {
    this.killAllQemu();
    await this.stopDaemon('SIGTERM');
    if (process.env.KEEP_TEST_LAB !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
