import { z } from 'zod';

export const databaseSection = z.strictObject({
  /**
   * sqlite:PATH (relative paths are under data_dir), sqlite::memory:, or mysql://user:pass@host:port/db
   * (MySQL/MariaDB, for several controllers; also mysql+pymysql:// as in masakari.conf). Default:
   * sqlite:masakari.sqlite under data_dir.
   */
  url: z.string().min(1).default('sqlite:masakari.sqlite'),
  /** ms to wait for a lock held by another connection before failing (SQLite busy_timeout; MySQL
   * innodb_lock_wait_timeout, rounded up to whole seconds). */
  busy_timeout_ms: z.number().int().min(0).default(5000),
  /** Apply pending migrations at startup (always on in --role=all). Otherwise run `masakari db sync`. */
  auto_migrate: z.boolean().default(false),
});
