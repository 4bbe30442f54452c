import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/core/store/sqlite/index.ts';
import { runStoreContract } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'masakari-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreContract('sqlite file', async () => openSqliteStore({ path: join(dir, `store-${++n}.sqlite`) }));
runStoreContract('sqlite :memory:', async () => openSqliteStore({ path: ':memory:' }));

test('a heartbeat does not change the change stamp (no cached GET response holds heartbeats)', async () => {
  const s = openSqliteStore({ path: join(dir, 'stamp.sqlite') });
  try {
    const before = s.changeStamp!();
    await s.recordHeartbeat(
      { host: 'h', version: '1', interval_seconds: 10, sent_at: 'x', monitors: {}, outbox: { pending: 0, rejected: 0, oldest_pending_age_seconds: null } },
      new Date(),
    );
    assert.equal(s.changeStamp!(), before);
    assert.equal((await s.listHeartbeats()).length, 1);
    await s.createSegment({ name: 'x', description: null, recoveryMethod: 'auto', serviceType: 'COMPUTE', enabled: true }, new Date());
    assert.notEqual(s.changeStamp!(), before, 'other writes still do');
  } finally {
    await s.close();
  }
});
