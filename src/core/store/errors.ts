// The store's error classes for conditions a caller handles (configuration and schema problems, a failed WAL sync).
// Every one extends AppError (../errors.ts) with a stable code; docs/errors.md lists them:
//   STORE_SCHEMA          SchemaError: the database's schema is behind or ahead of this code, or a migration failed
//   DATABASE_URL_INVALID  DatabaseUrlError (open.ts): database.url is malformed, or the database it names cannot be
//                         opened or reached (wraps MYSQL_URL_INVALID and MYSQL_CONNECT for the configuration check)
//   MYSQL_URL_INVALID     MysqlUrlError (mysql/url.ts): a mysql:// URL that cannot be parsed
//   MYSQL_CONNECT         MysqlConnectError (mysql/index.ts): the MySQL/MariaDB server refused or could not be reached
//   DATABASE_UNAVAILABLE  DatabaseUnavailableError (mysql/connection.ts): no node of database.url could serve, or a
//                         commit's outcome is unknown for an operation that is not safe to repeat
//   LEASE_LOST            LeaseLostError (sql/fence.ts): a workflow's write refused, its controller no longer holds the
//                         notification's claim (another controller took the workflow over, or the lease expired)
//   STORE_WAL_SYNC        WalSyncError (sqlite/wal-sync.ts): the SQLite WAL could not be made durable; writes are
//                         refused until restart
// Not-found and conflict answers (404/409) are domain errors (../domain/errors.ts), see sql/errors.ts.

import { AppError } from '../errors.ts';

/** The schema is not the one this code needs (behind, from the future) or a migration failed. */
export class SchemaError extends AppError {
  readonly code = 'STORE_SCHEMA';
}

/**
 * A write fenced by a workflow's lease (LeaseFence) was refused: `owner` no longer holds the claim on the notification
 * (expired, or taken over by another controller). Nothing was written; the workflow must stop at once.
 */
export class LeaseLostError extends AppError {
  readonly code = 'LEASE_LOST';
  constructor(
    readonly notificationUuid: string,
    readonly owner: string,
  ) {
    super(`${owner} no longer holds the claim on notification ${notificationUuid}; its write was refused`);
  }
}
