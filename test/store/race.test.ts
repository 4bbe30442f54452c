// Several processes on one SQLite file at the same instant: exactly one stores a given notification, exactly one
// wins a notification claim and a host-recovery claim (invariant 3). Real processes, real file locks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-race-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const PROCESSES = 4;

test('concurrent processes: one notification stored, one claim won', { timeout: 120_000 }, async () => {
  const path = join(dir, 'race.sqlite');
  const seedStore = openSqliteStore({ path });
  const seg = await seedStore.createSegment({ name: 's', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
  const host = await seedStore.createHost(
    seg.uuid,
    { name: 'node1', type: 'COMPUTE', controlAttributes: 'SSH', reserved: false, onMaintenance: false },
    new Date(),
  );
  const target = await seedStore.createNotification(
    { uuid: randomUUID(), type: 'VM', generatedTime: new Date(), sourceHostUuid: host.uuid, payload: { claim: 'me' } },
    0,
    new Date(),
  );
  assert.ok(target.created);
  await seedStore.close();

  const lines: Promise<string>[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < PROCESSES; i++) {
    const c = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'race.ts'), path, `ctl-${i}`, host.uuid, target.notification.uuid],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(c);
    const rl = createInterface({ input: c.stdout });
    const it = rl[Symbol.asyncIterator]();
    ready.push(
      it.next().then((r) => {
        assert.equal(r.value, 'ready');
      }),
    );
    lines.push(ready[i]!.then(() => it.next()).then((r) => String(r.value)));
  }
  await Promise.all(ready);
  for (const c of children) c.stdin!.write('go\n');
  const results = (await Promise.all(lines)).map((l) => JSON.parse(l) as { created: boolean; claimed: boolean; hostClaim: boolean });

  assert.equal(results.filter((r) => r.created).length, 1, JSON.stringify(results));
  assert.equal(results.filter((r) => r.claimed).length, 1, JSON.stringify(results));
  assert.equal(results.filter((r) => r.hostClaim).length, 1, JSON.stringify(results));

  const check = openSqliteStore({ path, migrate: false });
  try {
    const all = await check.listNotifications({ filters: { sourceHostUuid: host.uuid, type: 'COMPUTE_HOST' }, sort: [], limit: 100 });
    assert.equal(all.length, 1);
  } finally {
    await check.close();
  }
});
