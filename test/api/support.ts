// A real API app over a real (in-memory) SQLite store, driven in-process through hono's request().

import { createApiApp, type ApiDeps } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import type { ConfigInput } from '../../src/core/config/schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import type { Store } from '../../src/core/store/types.ts';

export interface Res {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface TestApi {
  store: Store;
  call(method: string, path: string, opts?: { body?: unknown; raw?: string; headers?: Record<string, string>; version?: string }): Promise<Res>;
  close(): Promise<void>;
}

export function testApi(config: ConfigInput = {}, extra: Partial<ApiDeps> = {}): TestApi {
  const store = openSqliteStore({ path: ':memory:' });
  const app = createApiApp({ store, config: parseConfig(config, 'test'), log: silentLogger, hostCatalog: acceptAllHostCatalog, ...extra });
  return {
    store,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.version) headers['OpenStack-API-Version'] = `instance-ha ${opts.version}`;
      let body: string | undefined = opts.raw;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['Content-Type'] ??= 'application/json';
      }
      const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    close: () => store.close(),
  };
}

/** Creates a segment (and hosts in it) through the API; returns their uuids. */
export async function seed(api: TestApi, segment = 'seg-1', hosts: string[] = ['compute-1'], recovery = 'auto') {
  const s = await api.call('POST', '/v1/segments', { body: { segment: { name: segment, recovery_method: recovery, service_type: 'COMPUTE' } } });
  if (s.status !== 201) throw new Error(`seed segment: ${s.text}`);
  const hostUuids: Record<string, string> = {};
  for (const h of hosts) {
    const r = await api.call('POST', `/v1/segments/${s.body.segment.uuid}/hosts`, { body: { host: { name: h, type: 'COMPUTE', control_attributes: 'SSH' } } });
    if (r.status !== 201) throw new Error(`seed host: ${r.text}`);
    hostUuids[h] = r.body.host.uuid;
  }
  return { segment: s.body.segment.uuid as string, hosts: hostUuids };
}

export const errorOf = (r: Res) => {
  const [key] = Object.keys(r.body ?? {});
  return { key, ...(r.body?.[key!] ?? {}) } as { key: string; code: number; message: string };
};
