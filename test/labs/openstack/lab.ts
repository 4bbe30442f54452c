// Starts and stops the OpenStack lab (start.sh/stop.sh beside this file) for a test file, and reads what it
// wrote (lab.env). The lab is heavy (~1.5 GiB, 40-100 s to start), so one test file starts it once and runs the
// whole Nova suite on it. Whatever happens, stop() (and, as a last resort, the process exit hook) kills every
// process the lab recorded.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenstackConfig } from '../../../src/core/config/sections/openstack.ts';
import { openstackSection } from '../../../src/core/config/sections/openstack.ts';

const HERE = new URL('.', import.meta.url).pathname;
const START = join(HERE, 'start.sh');
const STOP = join(HERE, 'stop.sh');
const COMPUTE = join(HERE, 'compute.sh');

/** Every port is BASE + one of these (start.sh). */
const PORT_OFFSETS = [500, 774, 778, 292, 696, 672, 673, 369, 432];
const BASE_CANDIDATES = [47000, 45000, 43000, 41000, 39000];

/** Why the lab cannot run here, or null when it can (root, Debian's OpenStack packages). */
export function labUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'the OpenStack lab needs root (PostgreSQL runs as user postgres)';
  const need = [
    '/usr/bin/uwsgi',
    '/usr/bin/keystone-manage',
    '/usr/bin/placement-api',
    '/usr/lib/rabbitmq/bin/rabbitmq-server',
    '/usr/lib/postgresql/15/bin/postgres',
    '/usr/lib/python3/dist-packages/nova',
    '/usr/lib/python3/dist-packages/glance',
    '/usr/bin/jq',
  ];
  const missing = need.filter((p) => !existsSync(p));
  return missing.length ? `OpenStack lab packages missing (${missing.join(', ')}): see .ci/install.d/openstack.packages` : null;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function pickPortBase(): Promise<number> {
  for (const base of BASE_CANDIDATES) {
    const free = await Promise.all(PORT_OFFSETS.map((o) => portFree(base + o)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no free port range for the OpenStack lab (tried bases ${BASE_CANDIDATES.join(', ')})`);
}

export interface OpenStackLab {
  dir: string;
  /** KEY=VALUE pairs of DIR/lab.env (OS_* and LAB_*). */
  env: Record<string, string>;
  authUrl: string;
  novaUrl: string;
  imageId: string;
  flavorId: string;
  /** fake-host-1 ... fake-host-N */
  hosts: string[];
  password: string;
  /** An `openstack:` config section for this lab, with overrides. */
  config(overrides?: Record<string, unknown>): OpenstackConfig;
  /** SIGKILL nova-compute of host N (1-based): a sudden host failure. */
  killCompute(n: number): void;
  /** Start nova-compute of host N again (repair). */
  startCompute(n: number): void;
  stop(): void;
}

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function runStart(dir: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [START, dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      reject(new Error(`OpenStack lab did not start (${signal ?? `exit ${code}`}); logs in ${dir}/logs:\n${out.slice(-3000)}`));
    });
  });
}

/** Starts a fresh lab in a new temporary directory. Throws with the script's output when it does not come up. */
export async function startLab(
  opts: {
    computes?: number;
    readyTimeoutS?: number;
    /** LAB_IP: where the APIs and RabbitMQ listen (default 127.0.0.1); test/labs/cloud uses a bridge address. */
    ip?: string;
    /** LAB_TOKEN_EXPIRATION: Keystone token lifetime in seconds (default Keystone's 3600). */
    tokenExpirationS?: number;
  } = {},
): Promise<OpenStackLab> {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-oslab-'));
  const base = await pickPortBase();
  const readyTimeoutS = opts.readyTimeoutS ?? 300;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    try {
      execFileSync('bash', [STOP, dir, ...(process.env.KEEP_LAB ? [] : ['--purge'])], { stdio: 'ignore', timeout: 120_000 });
    } catch {
      // stop.sh kills with SIGKILL after 20 s; a failure here leaves nothing we could do better.
    }
    if (!process.env.KEEP_LAB) rmSync(dir, { recursive: true, force: true });
  };
  // If the test process dies without running after() hooks, do not leave ~15 daemons behind.
  process.on('exit', stop);
  const env = {
    ...process.env,
    LAB_OWNER_PID: String(process.pid),
    LAB_PORT_BASE: String(base),
    LAB_COMPUTES: String(opts.computes ?? 3),
    LAB_READY_TIMEOUT: String(readyTimeoutS),
    ...(opts.ip ? { LAB_IP: opts.ip } : {}),
    ...(opts.tokenExpirationS ? { LAB_TOKEN_EXPIRATION: String(opts.tokenExpirationS) } : {}),
  };
  try {
    await runStart(dir, env, (readyTimeoutS + 120) * 1000);
  } catch (e) {
    // Keep the logs of a failed start for the report; processes are stopped either way.
    process.env.KEEP_LAB ??= '1';
    stop();
    throw e;
  }
  const labEnv = parseEnvFile(readFileSync(join(dir, 'lab.env'), 'utf8'));
  const authUrl = labEnv.OS_AUTH_URL!;
  const password = labEnv.OS_PASSWORD!;
  return {
    dir,
    env: labEnv,
    authUrl,
    novaUrl: labEnv.LAB_NOVA_URL!,
    imageId: labEnv.LAB_IMAGE_ID!,
    flavorId: labEnv.LAB_FLAVOR_ID!,
    hosts: (labEnv.LAB_COMPUTE_HOSTS ?? '').split(' ').filter(Boolean),
    password,
    config: (overrides = {}) =>
      openstackSection.parse({
        auth_url: authUrl,
        username: labEnv.OS_USERNAME,
        password,
        project_name: labEnv.OS_PROJECT_NAME,
        region_name: labEnv.OS_REGION_NAME,
        interface: 'public',
        // Short backoff: the tests provoke retries on purpose.
        retry_delay: 0.05,
        retry_max_delay: 0.5,
        ...overrides,
      }),
    killCompute: (n) => execFileSync('bash', [COMPUTE, dir, String(n), 'kill'], { stdio: 'pipe' }),
    startCompute: (n) => execFileSync('bash', [COMPUTE, dir, String(n), 'start'], { stdio: 'pipe' }),
    stop,
  };
}
