// A simulated IPMI BMC for tests: OpenIPMI's ipmi_sim on a random loopback UDP port, started by start-bmc.sh, with
// the host's power state in a file the test can read and flip. Always stop() it (in an after() hook); a process
// exit hook kills any that a crashed test left behind.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand } from '../../support/components.ts';

const HERE = new URL('.', import.meta.url).pathname;

export const haveIpmiSim = (): boolean => haveCommand('ipmi_sim') && haveCommand('ipmitool');

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** A UDP port nothing listens on right now (the kernel picks it; there is a small race until ipmi_sim binds it). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export interface SimBmc {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dir: string;
  /** The power state as the simulated hardware has it (the file the chassis_control hook keeps). */
  power(): 'on' | 'off';
  setPower(p: 'on' | 'off'): void;
  /** When stuck, power commands are accepted but change nothing (a BMC that says yes and does not act). */
  setStuck(stuck: boolean): void;
  /** Power commands the BMC received, in order, e.g. ["power=0", "power=1"]. */
  commands(): string[];
  stop(): Promise<void>;
}

function ipmitoolStatus(port: number, user: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'ipmitool',
      ['-I', 'lanplus', '-C', '3', '-N', '1', '-R', '1', '-H', '127.0.0.1', '-p', String(port), '-U', user, '-E', 'chassis', 'power', 'status'],
      { env: { ...process.env, IPMI_PASSWORD: password }, timeout: 5000 },
      (err, stdout) => resolve(!err && /Chassis Power is/.test(stdout)),
    );
  });
}

export async function startSimBmc(opts: { host?: string; user?: string; password?: string } = {}): Promise<SimBmc> {
  const host = opts.host ?? 'compute1';
  const user = opts.user ?? 'admin';
  const password = opts.password ?? 'password';
  const dir = mkdtempSync(join(tmpdir(), 'masakari-bmc-'));
  const port = await freeUdpPort();
  const child = spawn('sh', [join(HERE, 'start-bmc.sh'), dir, String(port), host, user], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BMC_PASSWORD: password },
  });
  running.add(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), running.delete(child), r())));

  const powerFile = join(dir, `${host}.power`);
  const bmc: SimBmc = {
    host,
    port,
    user,
    password,
    dir,
    power: () => (readFileSync(powerFile, 'utf8').trim() === '0' ? 'off' : 'on'),
    setPower: (p) => writeFileSync(powerFile, p === 'on' ? '1\n' : '0\n'),
    setStuck: (stuck) => {
      const f = join(dir, `${host}.stuck`);
      if (stuck) writeFileSync(f, '');
      else rmSync(f, { force: true });
    },
    commands: () => {
      const f = join(dir, 'chassis.log');
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' set ')[1] ?? l);
    },
    stop: async () => {
      if (!exited) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          // gone
        }
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // gone
          }
        }, 2000);
        await exit;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  // Ready when it answers a status query; bounded, and the reason is shown when it never does.
  for (let i = 0; i < 40; i++) {
    if (exited) break;
    if (await ipmitoolStatus(port, user, password)) return bmc;
    await new Promise((r) => setTimeout(r, 100));
  }
  await bmc.stop();
  throw new Error(`ipmi_sim did not come up on 127.0.0.1:${port}: ${output.trim() || 'no output'}`);
}
