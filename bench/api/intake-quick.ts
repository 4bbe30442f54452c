// Quick in-process check of POST /v1/notifications throughput on the real SQLite store (WAL, synchronous=FULL) in a
// temp file: N requests at concurrency C over keep-alive fetch, no engine attached (the intake path only), then a
// second connection counts the rows so every 202 is known to be on disk.
// Usage: npx tsx bench/api/intake-quick.ts [N=2000] [C=50]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createApiApp, startApiServer } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';

const N = Number(process.argv[2] ?? 2000);
const C = Number(process.argv[3] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'intake-quick-'));
const file = join(dir, 'm.db');
const store = openSqliteStore({ path: file });
const app = createApiApp({ store, config: parseConfig({}, 'bench'), log: silentLogger, hostCatalog: acceptAllHostCatalog });
const server = await startApiServer(app, '127.0.0.1:0');
const base = `http://127.0.0.1:${server.port}/v1`;
const post = (path: string, body: unknown) =>
  fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const seg = (await (await post('/segments', { segment: { name: 's', recovery_method: 'auto', service_type: 'COMPUTE' } })).json()) as any;
await post(`/segments/${seg.segment.uuid}/hosts`, { host: { name: 'compute-1', type: 'COMPUTE', control_attributes: 'x' } });

let next = 0;
const counts: Record<number, number> = {};
const lat: number[] = [];
const worker = async () => {
  while (next < N) {
    const i = next++;
    const t0 = performance.now();
    const r = await post('/notifications', {
      notification: {
        type: 'VM',
        hostname: 'compute-1',
        // Generated times 400 s apart: with no engine every row stays 'new', and times inside the 180 s duplicate window
        // would make each duplicate check compare against all earlier rows (quadratic), which is not what is measured.
        generated_time: new Date(Date.UTC(2026, 0, 1) + i * 400_000).toISOString(),
        payload: { event: 'LIFECYCLE', instance_uuid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, vir_domain_event: 'STARTED_BOOTED' },
      },
    });
    await r.arrayBuffer();
    lat.push(performance.now() - t0);
    counts[r.status] = (counts[r.status] ?? 0) + 1;
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: C }, worker));
const secs = (performance.now() - t0) / 1000;
await server.close();
await store.close();
const onDisk = new Database(file, { readonly: true }).prepare('SELECT COUNT(*) FROM notifications').pluck().get() as number;
lat.sort((a, b) => a - b);
const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(1);
console.log(JSON.stringify({ N, C, secs: +secs.toFixed(2), rps: Math.round(N / secs), p50ms: p(0.5), p99ms: p(0.99), statuses: counts, rowsOnDisk: onDisk }));
rmSync(dir, { recursive: true, force: true });
