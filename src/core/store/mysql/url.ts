// database.url for MySQL/MariaDB -> mysql2 connection options. Accepts our spelling and SQLAlchemy's, as Masakari's
// masakari.conf writes it:
//   mysql://user:pass@host:3306/masakari
//   mysql+pymysql://user:pass@host/masakari?charset=utf8     (any mysql+DRIVER://; the driver part is ignored)
//   mariadb://user:pass@host/masakari
//   mysql://user:pass@localhost/masakari?unix_socket=/run/mysqld/mysqld.sock
//   mysql://user:pass@db1:3306,db2:3306,db3/masakari   several nodes of one Galera cluster (or primary + standby):
//                    the store uses the first that answers as a Primary node and moves to the next when it cannot
//                    (connection.ts); same user, password and database on all of them
// User and password are URL-decoded (a password with '@' or '/' is written %40, %2F).

import { AppError } from '../../errors.ts';

/** A mysql:// database.url that cannot be parsed; the message never contains the password. */
export class MysqlUrlError extends AppError {
  readonly code = 'MYSQL_URL_INVALID';
}

export interface MysqlEndpoint {
  host: string;
  port: number;
}

export interface MysqlTarget {
  /** The first endpoint (the preferred node). */
  host: string;
  port: number;
  /** Every node named by the URL, in its order (one for a plain URL). */
  endpoints: MysqlEndpoint[];
  socketPath?: string;
  user: string;
  password: string;
  database: string;
  /** host:port/db, host1:port,host2:port/db or socket/db, never the password: for messages and logs. */
  display: string;
}

/** Query parameters of SQLAlchemy URLs that mean nothing here (we always use utf8mb4). */
const IGNORED_PARAMS = new Set(['charset', 'use_unicode', 'binary_prefix', 'client_flag']);

export function isMysqlUrl(url: string): boolean {
  return /^(mysql|mariadb)(\+[a-z0-9_]+)?:\/\//i.test(url);
}

/** One `host`, `host:port`, `[v6]` or `[v6]:port` of the host list; throws with the reason. */
function parseEndpoint(text: string, position: number, count: number): MysqlEndpoint {
  const where = count > 1 ? `host ${position} of ${count} ("${text}")` : `host "${text}"`;
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d*))?$/i.exec(text);
  if (!text || !m)
    throw new MysqlUrlError(`the MySQL URL's ${text ? where : `host ${position} of ${count}`} is empty or malformed (expected HOST or HOST:PORT)`);
  const host = m[1] ?? m[2]!;
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (m[3] === '' || !Number.isInteger(port) || port < 1 || port > 65535) throw new MysqlUrlError(`the MySQL URL's ${where} has a bad port (1..65535)`);
    return { host, port };
  }
  return { host, port: 3306 };
}

export function parseMysqlUrl(url: string): MysqlTarget {
  if (!isMysqlUrl(url)) throw new MysqlUrlError(`not a MySQL/MariaDB URL (mysql://user:pass@host:port/db)`);
  // The authority is USERINFO@HOSTLIST: the host list ends at the first '/', '?' or '#' after the LAST '@' before the
  // path (a password's '@' should be %40, but an unescaped one must not make us print it as a host name).
  const rest = url.replace(/^[a-z0-9+]+:\/\//i, '');
  const m = /^(?:(.*)@)?([^@/?#]*)(.*)$/s.exec(rest)!;
  const userinfo = m[1];
  const hostList = m[2]!;
  let endpoints: MysqlEndpoint[];
  if (hostList === '') endpoints = [{ host: 'localhost', port: 3306 }];
  else {
    const parts = hostList.split(',');
    endpoints = parts.map((p, i) => parseEndpoint(p.trim(), i + 1, parts.length));
  }
  const seen = new Set<string>();
  for (const e of endpoints) {
    const key = `${e.host.toLowerCase()}:${e.port}`;
    if (seen.has(key)) throw new MysqlUrlError(`the MySQL URL names ${e.host}:${e.port} twice`);
    seen.add(key);
  }
  let u: URL;
  try {
    // The host list replaced by one placeholder, so URL parses user, password, path and query the usual way.
    u = new URL(`mysql://${userinfo !== undefined ? `${userinfo}@` : ''}placeholder${m[3]}`);
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
  if (socketPath && endpoints.length > 1) throw new MysqlUrlError('the MySQL URL names several hosts and a unix_socket: use one or the other');
  const user = decodeURIComponent(u.username);
  if (!user) throw new MysqlUrlError('the MySQL URL names no user (mysql://USER:pass@host/db)');
  const first = endpoints[0]!;
  const hostText = (e: MysqlEndpoint) => `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
  return {
    host: first.host,
    port: first.port,
    endpoints,
    ...(socketPath ? { socketPath } : {}),
    user,
    password: decodeURIComponent(u.password),
    database,
    display: `${socketPath ?? endpoints.map(hostText).join(',')}/${database}`,
  };
}
