// Shared helpers of the chaos tests: real controller processes (the CLI, or controller-proc.ts with the shared sim
// cloud), killed with SIGKILL and always reaped in after() hooks; small HTTP helpers; random numbers from a seed so a
// failing run can be replayed (CHAOS_SEED).

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startCli, repoRoot } from '../support/cli.ts';

const procEntry = fileURLToPath(new URL('./controller-proc.ts', import.meta.url));

export const envInt = (name: string, def: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : def;
};

/** mulberry32: a small seeded PRNG (the seed is printed, CHAOS_SEED replays it). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every process a chaos test started: after() kills whatever is still alive (SIGKILL, by pid). */
const live = new Set<ChildProcess>();
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((c) => killHard(c)));
}

/** kill -9, and wait until the OS has reaped it. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await gone;
}

export interface ControllerProc {
  child: ChildProcess;
  port: number;
  owner: string;
  output(): string;
}

/** Starts test/chaos/controller-proc.ts (real controller wiring, compute = the shared sim cloud); resolves once its API listens. */
export async function startControllerProc(config: Record<string, unknown>, simUrl: string, owner: string, timeoutMs = 90_000): Promise<ControllerProc> {
  const full = { ...config, controller: { compute_driver: 'libvirt', owner_id: owner } };
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', procEntry], {
      cwd: repoRoot,
      env: { ...process.env, CHAOS_CONFIG: JSON.stringify(full), CHAOS_SIM_URL: simUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller ${owner} not ready after ${timeoutMs} ms:\n${out.slice(-3000)}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`controller ${owner} exited (${code ?? sig}) before it was ready:\n${out.slice(-3000)}`));
    });
  });
  return { child, port, owner, output: () => out };
}

/** Starts the real CLI `masakari --role=controller` with MASAKARI_* settings; resolves once GET /v1/ answers. */
export async function startCliController(env: Record<string, string>, timeoutMs = 90_000): Promise<ControllerProc> {
  const port = await freePort();
  const child = startCli(['--role=controller'], { ...env, MASAKARI_API__LISTEN: `127.0.0.1:${port}` });
  track(child);
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`controller exited (${child.exitCode}):\n${child.output().slice(-3000)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v1/segments`);
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`controller not ready after ${timeoutMs} ms:\n${child.output().slice(-3000)}`);
    await sleep(200);
  }
  return { child, port, owner: env.MASAKARI_CONTROLLER__OWNER_ID ?? 'cli', output: () => child.output() };
}

export interface PostResult {
  status: number;
  body: { notification?: { notification_uuid: string } } & Record<string, unknown>;
}

export async function postNotification(
  port: number,
  n: { type: string; hostname: string; generated_time: string; payload: Record<string, string> },
): Promise<PostResult> {
  const r = await fetch(`http://127.0.0.1:${port}/v1/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ notification: n }),
  });
  const text = await r.text();
  let body: PostResult['body'] = {};
  try {
    body = JSON.parse(text) as PostResult['body'];
  } catch {
    /* keep {} */
  }
  return { status: r.status, body };
}

export const FINAL = new Set(['finished', 'ignored', 'failed']);
