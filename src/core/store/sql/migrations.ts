// What both migrators share: the embedded migration, the check that the database is not from a newer version, and
// the order migrations run in. How a migration is applied (one transaction in SQLite, a named lock and one statement
// at a time in MySQL) is each dialect's migrate.ts.

import { SchemaError } from '../errors.ts';

export interface Migration {
  /** File name without .sql, e.g. "0000_initial"; recorded in schema_migrations. */
  name: string;
  /** Statements separated by `--> statement-breakpoint` (drizzle-kit's separator; MySQL runs them one by one). */
  sql: string;
}

/** current = migrations applied; latest = migrations this code knows. Throws when the database is newer. */
export function checkApplied(applied: readonly string[], list: readonly Migration[]): { current: number; latest: number } {
  const known = new Set(list.map((m) => m.name));
  const unknown = applied.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new SchemaError(`the database has migrations this masakari does not know (${unknown.join(', ')}): it was upgraded by a newer version`);
  }
  return { current: applied.length, latest: list.length };
}

/** The migrations in the order they are applied (by name). */
export const inNameOrder = (list: readonly Migration[]): Migration[] => [...list].sort((a, b) => a.name.localeCompare(b.name));
