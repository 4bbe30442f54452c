// Runs the real Python clients (Debian's python3-openstackclient + python3-masakariclient, openstacksdk) against
// our API server. Debian's /usr/bin/python3 is used on purpose: the python3 on PATH may be a build without
// Debian's packages.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiApp, startApiServer, type RunningApi } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';

export const OPENSTACK = '/usr/bin/openstack';
export const PYTHON = '/usr/bin/python3';
export const clientsInstalled = () =>
  existsSync(OPENSTACK) &&
  existsSync(PYTHON) &&
  existsSync('/usr/lib/python3/dist-packages/masakariclient') &&
  existsSync('/usr/lib/python3/dist-packages/openstack');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ClientLab {
  store: Store;
  endpoint: string;
  dir: string;
  /** `openstack --os-auth-type none --os-endpoint <endpoint> ...args` */
  openstack(...args: string[]): Promise<Run>;
  /** openstack ... -f json, parsed; throws with the client's output when it fails. */
  openstackJson(...args: string[]): Promise<any>;
  run(cmd: string, args: string[], env?: Record<string, string>): Promise<Run>;
  close(): Promise<void>;
}

export async function startClientLab(): Promise<ClientLab> {
  const store = openSqliteStore({ path: ':memory:' });
  const app = createApiApp({ store, config: parseConfig({}, 'clients'), log: silentLogger, hostCatalog: acceptAllHostCatalog });
  let server: RunningApi | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'masakari-clients-'));
  try {
    server = await startApiServer(app, '127.0.0.1:0');
  } catch (e) {
    await store.close();
    throw e;
  }
  const endpoint = `http://127.0.0.1:${server.port}/v1`;
  // A clean environment: no OS_* from the caller, caches under the temporary directory.
  const baseEnv: Record<string, string> = { PATH: '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' };
  const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
    new Promise<Run>((resolve) => {
      execFile(cmd, args, { env: { ...baseEnv, ...env }, cwd: dir, timeout: 90_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const openstack = (...args: string[]) => run(OPENSTACK, ['--os-auth-type', 'none', '--os-endpoint', endpoint, ...args]);
  return {
    store,
    endpoint,
    dir,
    run,
    openstack,
    async openstackJson(...args) {
      const r = await openstack(...args, '-f', 'json');
      if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
      return JSON.parse(r.stdout);
    },
    async close() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
