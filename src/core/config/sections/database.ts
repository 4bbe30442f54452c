import { z } from 'zod';

export const databaseSection = z.strictObject({
  /**
   * sqlite:PATH (relative paths are under data_dir), sqlite::memory:, or mysql://user:pass@host:port/db
   * (MySQL/MariaDB arrives with the scale-out work). Default: sqlite:masakari.sqlite under data_dir.
   */
  url: z.string().min(1).default('sqlite:masakari.sqlite'),
  /** SQLite: ms to wait for a lock held by another connection before failing. */
  busy_timeout_ms: z.number().int().min(0).default(5000),
  /** Apply pending migrations at startup (always on in --role=all). Otherwise run `masakari db sync`. */
  auto_migrate: z.boolean().default(false),
});
