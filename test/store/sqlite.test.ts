import { after } from 'node:test';
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
