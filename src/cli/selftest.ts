// `masakari selftest native` (hidden): proves the native addons work in THIS build of masakari. Packaging
// (the single executable, the Docker image) moves the addons around; this command loads both for real and uses
// them, so a broken package fails here instead of at the first notification. It also checks import() of a module
// outside the bundle, which the single executable supports only through its own loader.

import type { CommandModule } from 'yargs';
import { runCommand } from './common.ts';

export interface NativeReport {
  node: string;
  sqlite: string;
  koffi: string;
  /** getpid() called through koffi, equal to process.pid. */
  ffiGetpid: number;
  /** import() of a module that is not part of the bundle works (custom recovery task modules need it). */
  dynamicImport: boolean;
}

/** Opens an in-memory SQLite database through better-sqlite3, calls the C library through koffi, imports a module. */
export async function nativeSelftest(): Promise<NativeReport> {
  // Imported here, not at the top: `masakari --help` must not need the addons.
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(':memory:');
  let sqlite: string;
  try {
    db.exec('CREATE TABLE t (x INTEGER)');
    db.prepare('INSERT INTO t (x) VALUES (?)').run(42);
    const row = db.prepare('SELECT x, sqlite_version() AS v FROM t').get() as { x: number; v: string };
    if (row.x !== 42) throw new Error(`SQLite round trip returned ${row.x}, expected 42`);
    sqlite = row.v;
  } finally {
    db.close();
  }

  const { default: koffi } = await import('koffi');
  // load(null): the program itself and the libraries it links, so libc without naming glibc or musl.
  const self = koffi.load(null);
  const getpid = self.func('int getpid()') as () => number;
  const ffiGetpid = getpid();
  if (ffiGetpid !== process.pid) throw new Error(`getpid() through koffi returned ${ffiGetpid}, expected ${process.pid}`);

  // The single executable needs its own plumbing for import() of modules outside the bundle (build.ts, seaMain).
  // The specifier is computed so that the bundler leaves this import() alone.
  const specifier = ['data:text/javascript,', 'export default 42'].join('');
  const imported = (await import(specifier)) as { default: unknown };
  if (imported.default !== 42) throw new Error(`import() of a data: module returned ${String(imported.default)}`);

  return { node: process.version, sqlite, koffi: koffi.version, ffiGetpid, dynamicImport: true };
}

export const selftestCommand: CommandModule<object, { what: 'native' }> = {
  command: 'selftest <what>',
  describe: false, // hidden: a packaging check, not a user command
  builder: (y) => y.positional('what', { choices: ['native'] as const, demandOption: true }),
  handler: () =>
    runCommand(async () => {
      process.stdout.write(`${JSON.stringify(await nativeSelftest())}\n`);
    }),
};
