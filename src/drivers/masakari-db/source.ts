// Reads OpenStack Masakari's own database (the `[database] connection` of masakari.conf) for
// `masakari db import-masakari`: SQLite (sqlite:///relative, sqlite:////absolute, as SQLAlchemy writes them) or
// MySQL/MariaDB (mysql+pymysql://user:pass@host/masakari, mysql://...). Read-only: nothing is written there.
//
// Rows come back as plain objects keyed by column name, with Masakari's DATETIME columns as text
// ("YYYY-MM-DD HH:MM:SS[.ffffff]", naive UTC as oslo.db stores them) in both dialects.

import { isAbsolute, resolve } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { AppError, errorMessage } from '../../core/errors.ts';
import { maskUrlCredentials } from '../../core/mask.ts';
import { parseMysqlUrl, MysqlUrlError } from '../../core/store/mysql/url.ts';

/** The source URL is malformed, or its database cannot be opened or read. The message never holds a password. */
export class MasakariSourceError extends AppError {
  readonly code = 'MASAKARI_SOURCE';
}

/** A column value as the drivers return it (DATETIME as text, see above). */
export type SourceValue = string | number | bigint | null;
export type SourceRow = Record<string, SourceValue>;

export interface SourceDb {
  /** Where the rows come from, for people (user kept, password masked). */
  readonly display: string;
  hasTable(name: string): Promise<boolean>;
  columns(table: string): Promise<Set<string>>;
  rows(sql: string, params?: unknown[]): Promise<SourceRow[]>;
  close(): Promise<void>;
}

export type SourceTarget = { dialect: 'sqlite'; path: string } | { dialect: 'mysql'; url: string };

/** SQLAlchemy's sqlite:///rel (relative to the working directory) and sqlite:////abs; mysql[+driver]:// and mariadb://. */
export function parseSourceUrl(url: string): SourceTarget {
  const sqlite = /^sqlite(\+[a-z0-9_]+)?:\/\/\/(.*)$/i.exec(url);
  if (sqlite) {
    const p = sqlite[2]!.replace(/\?.*$/, '');
    if (!p) throw new MasakariSourceError(`"${url}" names no file (sqlite:////var/lib/masakari/masakari.db)`);
    // sqlite:////abs gives "/abs" here; sqlite:///rel gives "rel".
    return { dialect: 'sqlite', path: isAbsolute(p) ? p : resolve(p) };
  }
  if (/^(mysql|mariadb)(\+[a-z0-9_]+)?:\/\//i.test(url)) {
    try {
      parseMysqlUrl(url);
    } catch (e) {
      if (e instanceof MysqlUrlError) throw new MasakariSourceError(`the source URL: ${e.message}`);
      throw e;
    }
    return { dialect: 'mysql', url };
  }
  throw new MasakariSourceError(
    `the source URL "${maskUrlCredentials(url)}" is not one masakari.conf can hold: use mysql+pymysql://user:pass@host/masakari or sqlite:////path/masakari.db`,
  );
}

export async function openSourceDb(url: string): Promise<SourceDb> {
  const target = parseSourceUrl(url);
  return target.dialect === 'sqlite' ? openSqliteSource(target.path) : openMysqlSource(target.url);
}

function openSqliteSource(path: string): SourceDb {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new MasakariSourceError(`cannot open Masakari's SQLite database ${path}: ${errorMessage(e)}`);
  }
  return {
    display: path,
    hasTable: async (name) => !!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name),
    columns: async (table) => new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name)),
    rows: async (sql, params = []) => db.prepare(sql).all(...params) as SourceRow[],
    close: async () => {
      db.close();
    },
  };
}

async function openMysqlSource(url: string): Promise<SourceDb> {
  const t = parseMysqlUrl(url);
  const display = `mysql://${t.user}@${t.display}`;
  let c: mysql.Connection;
  try {
    c = await mysql.createConnection({
      host: t.host,
      port: t.port,
      ...(t.socketPath ? { socketPath: t.socketPath } : {}),
      user: t.user,
      password: t.password,
      database: t.database,
      charset: 'utf8mb4',
      // DATETIME as the text stored, not a Date in this machine's zone: oslo.db writes naive UTC.
      dateStrings: true,
      connectTimeout: 10_000,
    });
  } catch (e) {
    throw new MasakariSourceError(`cannot connect to Masakari's database ${display}: ${maskUrlCredentials(errorMessage(e))}`);
  }
  const rows = async (sql: string, params: unknown[] = []) => (await c.query(sql, params))[0] as SourceRow[];
  return {
    display,
    hasTable: async (name) => (await rows('SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [name])).length > 0,
    columns: async (table) =>
      new Set(
        (await rows('SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?', [table])).map((r) =>
          String(r.name),
        ),
      ),
    rows,
    close: () => c.end(),
  };
}
