// database.url for MySQL/MariaDB -> mysql2 connection options. Accepts our spelling and SQLAlchemy's, as Masakari's
// masakari.conf writes it:
//   mysql://user:pass@host:3306/masakari
//   mysql+pymysql://user:pass@host/masakari?charset=utf8     (any mysql+DRIVER://; the driver part is ignored)
//   mariadb://user:pass@host/masakari
//   mysql://user:pass@localhost/masakari?unix_socket=/run/mysqld/mysqld.sock
// User and password are URL-decoded (a password with '@' or '/' is written %40, %2F).

import { AppError } from '../../errors.ts';

/** A mysql:// database.url that cannot be parsed; the message never contains the password. */
export class MysqlUrlError extends AppError {
  readonly code = 'MYSQL_URL_INVALID';
}

export interface MysqlTarget {
  host: string;
  port: number;
  socketPath?: string;
  user: string;
  password: string;
  database: string;
  /** host:port/db or socket/db, never the password: for messages and logs. */
  display: string;
}

/** Query parameters of SQLAlchemy URLs that mean nothing here (we always use utf8mb4). */
const IGNORED_PARAMS = new Set(['charset', 'use_unicode', 'binary_prefix', 'client_flag']);

export function isMysqlUrl(url: string): boolean {
  return /^(mysql|mariadb)(\+[a-z0-9_]+)?:\/\//i.test(url);
}

export function parseMysqlUrl(url: string): MysqlTarget {
  if (!isMysqlUrl(url)) throw new MysqlUrlError(`not a MySQL/MariaDB URL (mysql://user:pass@host:port/db)`);
  let u: URL;
  try {
    // Normalise the scheme (mysql+pymysql, mariadb) so URL parses it the same way.
    u = new URL(url.replace(/^[a-z0-9+]+:\/\//i, 'mysql://'));
  } catch {
    throw new MysqlUrlError(`cannot parse the MySQL URL (expected mysql://user:pass@host:port/db)`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) throw new MysqlUrlError(`the MySQL URL names no database (mysql://user:pass@host:port/DB)`);
  let socketPath: string | undefined;
  for (const [k, v] of u.searchParams) {
    if (k === 'unix_socket') socketPath = v;
    else if (!IGNORED_PARAMS.has(k)) throw new MysqlUrlError(`unsupported MySQL URL parameter "${k}" (known: unix_socket, charset)`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : 3306;
  const user = decodeURIComponent(u.username);
  if (!user) throw new MysqlUrlError('the MySQL URL names no user (mysql://USER:pass@host/db)');
  return {
    host,
    port,
    ...(socketPath ? { socketPath } : {}),
    user,
    password: decodeURIComponent(u.password),
    database,
    display: `${socketPath ?? `${host}:${port}`}/${database}`,
  };
}
