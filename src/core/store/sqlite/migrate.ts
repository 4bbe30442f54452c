// Our own small migrator: applies the embedded migrations (./migrations/index.ts) in name order, each in its own
// IMMEDIATE transaction together with its schema_migrations row, so a crash leaves either all of a migration or
// none of it. Two processes migrating at once serialise on the write lock; the loser sees the row and skips.

import type Database from 'better-sqlite3';
import { errorMessage } from '../../errors.ts';
import { SchemaError } from '../errors.ts';
import { checkApplied, inNameOrder, type Migration } from '../sql/migrations.ts';
import { migrations as embedded } from './migrations/index.ts';

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name TEXT PRIMARY KEY NOT NULL,
  applied_at INTEGER NOT NULL
)`;

function appliedNames(db: Database.Database): string[] {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get();
  if (!exists) return [];
  return (db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]).map((r) => r.name);
}

/** current = migrations applied; latest = migrations this code knows. Throws when the database is newer. */
export function schemaVersion(db: Database.Database, list: readonly Migration[] = embedded): { current: number; latest: number } {
  return checkApplied(appliedNames(db), list);
}

export function migrate(db: Database.Database, nowMicros: number, list: readonly Migration[] = embedded): { applied: string[] } {
  db.exec(BOOKKEEPING);
  schemaVersion(db, list); // refuses a database from the future before touching it
  const applied: string[] = [];
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE name = ?');
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  for (const m of inNameOrder(list)) {
    const run = db.transaction(() => {
      if (isApplied.get(m.name)) return false;
      db.exec(m.sql);
      record.run(m.name, nowMicros);
      return true;
    });
    let did: boolean;
    try {
      did = run.immediate();
    } catch (e) {
      throw new SchemaError(`migration ${m.name} failed: ${errorMessage(e)}`);
    }
    if (did) applied.push(m.name);
  }
  return { applied };
}
