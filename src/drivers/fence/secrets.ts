// Where a BMC password comes from. Config files are often world-readable or kept in version control, so a password
// may instead be read from a file (mode 0600, e.g. a mounted secret) or an environment variable. Both are read at
// every operation, not at startup: a rotated password works without a restart, and a missing one is reported when
// fencing is attempted, as a 'config' error naming the file or variable (never its content).

import { readFile } from 'node:fs/promises';
import { FenceError } from './errors.ts';

export interface SecretSource {
  password?: string | null | undefined;
  password_file?: string | null | undefined;
  password_env?: string | null | undefined;
}

export async function resolvePassword(src: SecretSource, env: Record<string, string | undefined> = process.env): Promise<string> {
  if (src.password_file) {
    let text: string;
    try {
      text = await readFile(src.password_file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new FenceError('config', `cannot read password_file ${src.password_file}: ${code}`);
    }
    // One trailing newline is how editors and `echo` write files; it is not part of the password.
    return text.replace(/\r?\n$/, '');
  }
  if (src.password_env) {
    const v = env[src.password_env];
    if (v === undefined) throw new FenceError('config', `environment variable ${src.password_env} (password_env) is not set`);
    return v;
  }
  return src.password ?? '';
}
