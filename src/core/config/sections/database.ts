import { z } from 'zod';

export const databaseSection = z.strictObject({
  /**
   * sqlite:PATH (relative paths are under data_dir), sqlite::memory:, or mysql://user:pass@host:port/db
   * (MySQL/MariaDB, for several controllers; also mysql+pymysql:// as in masakari.conf). Several nodes of a Galera
   * cluster: mysql://user:pass@h1:3306,h2:3306,h3:3306/db (the first is preferred; docs/ha.md). Default:
   * sqlite:masakari.sqlite under data_dir.
   */
  url: z.string().min(1).default('sqlite:masakari.sqlite'),
  /** ms to wait for a lock held by another connection before failing (SQLite busy_timeout; MySQL
   * innodb_lock_wait_timeout, rounded up to whole seconds). */
  busy_timeout_ms: z.number().int().min(0).default(5000),
  /** Apply pending migrations at startup (always on in --role=all). Otherwise run `masakari db sync`. */
  auto_migrate: z.boolean().default(false),
  /** MySQL: runs in all of a transaction that lost a deadlock or a Galera certification conflict. */
  retry_attempts: z.number().int().min(1).max(100).default(8),
  /** MySQL with several hosts in database.url: how long an operation keeps trying them in turn while none can serve. */
  failover_timeout_ms: z.number().int().min(0).default(15000),
  /** Galera: wsrep_sync_wait of the store's sessions (1: reads and transaction starts see every earlier commit). */
  wsrep_sync_wait: z.number().int().min(0).max(15).default(1),
});
