// Quick check of the API read paths on the real SQLite store (WAL, temp file): seeds 100 segments, one of them with
// 100 hosts, and 100 VM notifications, all with fixed uuids and times (so the bodies are the same on every run and
// their sha256 shows whether a change altered any response byte). Then, per path:
//   - in-process: N sequential app.request() calls (the handler's CPU time, no sockets), mean ms per request;
//   - over HTTP (when wrk is on PATH): `wrk -t1 -c10 -d${WRK_SECS}s` against startApiServer on loopback.
// Usage: npx tsx bench/api/read-quick.ts [N=500]   (WRK_SECS=5 by default; WRK=0 skips wrk)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiApp, startApiServer } from '../../src/core/api/app.ts';
import { parseConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { acceptAllHostCatalog } from '../../src/core/ports/host-catalog.ts';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';

const N = Number(process.argv[2] ?? 500);
const WRK_SECS = Number(process.env.WRK_SECS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'read-quick-'));
let seq = 0;
const uuid = () => `00000000-0000-4000-8000-${(++seq).toString(16).padStart(12, '0')}`;
const store = openSqliteStore({ path: join(dir, 'm.db'), uuid });
// Times with a sub-millisecond part, as real ones have (1_700_000_000_000 ms + i seconds + 123.456 ms).
const at = (i: number) => new Date(1_700_000_000_000 + i * 1000 + 123);

let firstSeg = '';
for (let i = 0; i < 100; i++) {
  const s = await store.createSegment(
    { name: `segment-${i}`, description: i % 2 ? `desc "${i}"` : null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true },
    at(i),
  );
  if (i % 3 === 0) await store.updateSegment(s.uuid, { enabled: i % 2 === 0 }, at(i + 500));
  firstSeg ||= s.uuid;
}
const hostUuids: string[] = [];
for (let i = 0; i < 100; i++) {
  const h = await store.createHost(
    firstSeg,
    { name: `compute-${i}`, type: 'COMPUTE', controlAttributes: 'SSH', reserved: i % 5 === 0, onMaintenance: false },
    at(1000 + i),
  );
  hostUuids.push(h.uuid);
}
let oneNotification = '';
for (let i = 0; i < 100; i++) {
  const r = await store.createNotification(
    {
      uuid: uuid(),
      type: 'VM',
      generatedTime: at(2000 + i),
      sourceHostUuid: hostUuids[i]!,
      payload: { event: 'LIFECYCLE', instance_uuid: uuid(), vir_domain_event: 'STARTED_BOOTED' },
    },
    0,
    at(2000 + i),
  );
  if (r.created) oneNotification ||= r.notification.uuid;
}

const app = createApiApp({ store, config: parseConfig({}, 'bench'), log: silentLogger, hostCatalog: acceptAllHostCatalog });
const server = await startApiServer(app, '127.0.0.1:0');
const paths = ['/v1/segments', `/v1/segments/${firstSeg}/hosts`, '/v1/notifications', `/v1/notifications/${oneNotification}`];

const runWrk = (url: string) =>
  new Promise<string>((resolve) => {
    const p = spawn('wrk', ['-t1', '-c10', `-d${WRK_SECS}s`, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.on('error', () => resolve('-'));
    p.on('close', () => resolve(/Requests\/sec:\s*([\d.]+)/.exec(out)?.[1] ?? '-'));
  });

console.log('| path | body sha256 (12) | bytes | in-process ms/req | wrk -c10 req/s |');
console.log('|---|---|---:|---:|---:|');
for (const path of paths) {
  const first = await app.request(path);
  const text = await first.text();
  if (first.status !== 200) throw new Error(`${path}: ${first.status} ${text}`);
  for (let i = 0; i < 50; i++) await (await app.request(path)).text(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await (await app.request(path)).text();
  const ms = (performance.now() - t0) / N;
  const rps = process.env.WRK === '0' ? '-' : await runWrk(`http://127.0.0.1:${server.port}${path}`);
  const label = path.replace(/[0-9a-f-]{36}/g, '{id}');
  console.log(`| ${label} | ${createHash('sha256').update(text).digest('hex').slice(0, 12)} | ${text.length} | ${ms.toFixed(3)} | ${rps} |`);
}
await server.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
