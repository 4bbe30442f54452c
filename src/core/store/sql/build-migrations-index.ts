// Regenerates each dialect's migrations/index.ts from the *.sql files in that folder. The executable is one esbuild
// bundle, so migrations cannot be read from a folder at runtime: their text is inlined into index.ts, which is
// committed. Each dialect has its own schema history (sqlite/migrations, mysql/migrations); this builder serves both.
// Run after adding or editing a migration:  npx tsx src/core/store/sql/build-migrations-index.ts
// test/store/migrations.test.ts and test/store/mysql-migrations.test.ts fail when an index.ts is out of date.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Dialect = 'sqlite' | 'mysql';
const DIALECTS: readonly Dialect[] = ['sqlite', 'mysql'];

/** The folder of a dialect's .sql migrations (and its generated index.ts). */
export const migrationsDir = (dialect: Dialect): string => join(dirname(fileURLToPath(import.meta.url)), '..', dialect, 'migrations');

/** The text index.ts must have for the .sql files currently in `dir` (default: the dialect's folder). */
export function renderIndex(dialect: Dialect, dir: string = migrationsDir(dialect)): string {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const entries = files.map((f) => {
    const sql = readFileSync(join(dir, f), 'utf8');
    return `  {\n    name: ${JSON.stringify(f.replace(/\.sql$/, ''))},\n    sql: ${JSON.stringify(sql)},\n  },`;
  });
  return [
    `// GENERATED from the .sql files next to it (the ${dialect} schema history). Do not edit; run:`,
    '//   npx tsx src/core/store/sql/build-migrations-index.ts',
    '',
    "import type { Migration } from '../../sql/migrations.ts';",
    '',
    'export const migrations: readonly Migration[] = [',
    ...entries,
    '];',
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const d of DIALECTS) {
    writeFileSync(join(migrationsDir(d), 'index.ts'), renderIndex(d));
    process.stdout.write(`wrote ${d}/migrations/index.ts\n`);
  }
}
