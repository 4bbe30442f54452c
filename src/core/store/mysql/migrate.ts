// Our own small migrator on MySQL: applies the embedded migrations (./migrations/index.ts) in name order and records
// each in schema_migrations.
//
// Differences forced by MySQL: DDL commits implicitly, so a migration cannot be one transaction. Instead:
// - Several controllers (or `masakari db sync` next to a starting controller) serialise on a named lock
//   (GET_LOCK, per database) held on one connection for the whole run; the loser then finds the rows and skips.
// - A migration whose statement N fails stays unrecorded and the error names it and N; statements before N stay
//   applied (MySQL cannot undo DDL). Repair by hand, or restore the backup taken before upgrading: see docs/store.md.

import { errorMessage } from '../../errors.ts';
import { SchemaError } from '../errors.ts';
import { checkApplied, inNameOrder, type Migration } from '../sql/migrations.ts';
import type { Db, Executor } from './connection.ts';
import { migrations as embedded } from './migrations/index.ts';

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name VARCHAR(255) NOT NULL PRIMARY KEY,
  applied_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

const LOCK_NAME = `LEFT(CONCAT('masakari.migrate.', DATABASE()), 64)`;
const LOCK_TIMEOUT_S = 120;

/** Statements of one migration file (drizzle-kit's separator); blank pieces dropped. */
export function statementsOf(sql: string): string[] {
  return sql
    .split('--> statement-breakpoint')
    .map((s) => s.trim())
    .filter((s) => s.replace(/^--.*$/gm, '').trim() !== '');
}

async function appliedNames(c: Executor): Promise<string[]> {
  const exists = await c.rows(`SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'`);
  if (!exists.length) return [];
  return (await c.rows<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).map((r) => r.name);
}

/** current = migrations applied; latest = migrations this code knows. Throws when the database is newer. */
export async function schemaVersion(db: Db, list: readonly Migration[] = embedded): Promise<{ current: number; latest: number }> {
  return checkApplied(await appliedNames(db), list);
}

export async function migrate(db: Db, nowMicros: number, list: readonly Migration[] = embedded): Promise<{ applied: string[] }> {
  return db.withConnection(async (c) => {
    const [lock] = await c.rows<{ got: unknown }>(`SELECT GET_LOCK(${LOCK_NAME}, ?) AS got`, [LOCK_TIMEOUT_S]);
    if (lock?.got !== 1) throw new SchemaError(`another process held the migration lock for ${LOCK_TIMEOUT_S} s; try again`);
    try {
      await c.run(BOOKKEEPING);
      checkApplied(await appliedNames(c), list); // refuses a database from the future before touching it
      const applied: string[] = [];
      for (const m of inNameOrder(list)) {
        if ((await c.rows('SELECT 1 FROM schema_migrations WHERE name = ?', [m.name])).length) continue;
        const statements = statementsOf(m.sql);
        for (let i = 0; i < statements.length; i++) {
          try {
            await c.run(statements[i]!);
          } catch (e) {
            throw new SchemaError(
              `migration ${m.name} failed at statement ${i + 1} of ${statements.length}: ${errorMessage(e)}` +
                (i > 0 ? ` (statements 1..${i} were applied: MySQL cannot roll back DDL)` : ''),
            );
          }
        }
        await c.run('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)', [m.name, nowMicros]);
        applied.push(m.name);
      }
      return { applied };
    } finally {
      await c.rows(`SELECT RELEASE_LOCK(${LOCK_NAME})`).catch(() => {});
    }
  });
}
