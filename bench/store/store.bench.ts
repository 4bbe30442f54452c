// Store benchmark: cost of durable notification intake and of list pages as the notification table grows.
// Run: npx tsx bench/store/store.bench.ts [rows...]   (default 1000 100000)
// Method and results: bench/README.md ("Store").

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { openConnection } from '../../src/core/store/sqlite/connection.ts';
import type { Store } from '../../src/core/store/types.ts';
import type { Host } from '../../src/core/domain/model.ts';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
if (!sizes.length) sizes.push(1000, 100_000);

const STATUSES = ['finished', 'finished', 'finished', 'ignored', 'failed', 'error', 'new', 'running'];

/** Bulk-fills the table with one big transaction (fast; not what we measure). */
function fill(path: string, rows: number, hostUuids: string[]) {
  const conn = openConnection(path, 5000);
  const ins = conn.db.prepare(
    `INSERT INTO notifications (uuid, created_at, type, generated_time, source_host_uuid, payload, status)
     VALUES (?, ?, 'VM', ?, ?, ?, ?)`,
  );
  const t0 = Date.now() * 1000 - rows * 1_000_000;
  conn.db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const t = t0 + i * 1_000_000;
      ins.run(
        randomUUID(),
        t,
        t,
        hostUuids[i % hostUuids.length]!,
        JSON.stringify({ event: 'LIFECYCLE', instance_uuid: `i${i}` }),
        STATUSES[i % STATUSES.length]!,
      );
    }
  })();
  conn.close();
}

async function time<T>(runs: number, fn: (i: number) => Promise<T>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await fn(i);
  return Number(process.hrtime.bigint() - start) / 1e6 / runs;
}

async function benchSize(rows: number) {
  const dir = mkdtempSync(join(tmpdir(), 'masakari-bench-store-'));
  const path = join(dir, 'bench.sqlite');
  let store: Store | undefined;
  try {
    store = openSqliteStore({ path });
    const seg = await store.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
    const hosts: Host[] = [];
    for (let i = 0; i < 50; i++) {
      hosts.push(
        await store.createHost(seg.uuid, { name: `n${i}`, type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false }, new Date()),
      );
    }
    await store.close();
    fill(
      path,
      rows,
      hosts.map((h) => h.uuid),
    );
    store = openSqliteStore({ path, migrate: false });
    const s = store;
    const h0 = hosts[0]!.uuid;

    const create = await time(200, (i) =>
      s.createNotification(
        {
          uuid: randomUUID(),
          type: 'VM',
          generatedTime: new Date(),
          sourceHostUuid: hosts[i % 50]!.uuid,
          payload: { event: 'LIFECYCLE', instance_uuid: `new${i}` },
        },
        180_000,
        new Date(),
      ),
    );
    const firstPage = await s.listNotifications({ filters: {}, sort: [], limit: 50 });
    const deepMarker = Math.floor(rows / 2); // ids 1..rows come from fill(): a full page follows it
    const results: Record<string, number> = {
      'createNotification (fsync per commit)': create,
      'list page 1 (default order)': await time(200, () => s.listNotifications({ filters: {}, sort: [], limit: 50 })),
      'list page after a marker halfway down': await time(200, () => s.listNotifications({ filters: {}, sort: [], limit: 50, marker: deepMarker })),
      'list by status=new': await time(200, () => s.listNotifications({ filters: { status: 'new' }, sort: [], limit: 50 })),
      'list by source host': await time(200, () => s.listNotifications({ filters: { sourceHostUuid: h0 }, sort: [], limit: 50 })),
      'list by generated_time asc after marker': await time(200, () =>
        s.listNotifications({ filters: {}, sort: [{ key: 'generated_time', dir: 'asc' }], limit: 50, marker: firstPage[5]!.id }),
      ),
      'findNotificationsByStatus(new, running, error)': await time(200, () => s.findNotificationsByStatus(['new', 'running', 'error'], 50)),
      hostInUse: await time(200, () => s.hostInUse(h0)),
      'segmentInUse (50 hosts)': await time(200, () => s.segmentInUse(seg.uuid)),
    };
    console.log(`\n${rows} notifications`);
    for (const [name, ms] of Object.entries(results)) console.log(`  ${name.padEnd(48)} ${ms.toFixed(3)} ms/op`);
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const n of sizes) await benchSize(n);
