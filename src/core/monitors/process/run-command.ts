// Runs one start/restart command from the process list like masakari-monitors: split on whitespace, no shell.
// run_as_root goes through `sudo -n` when we are not root (masakari used rootwrap's sudo the same way).

import { execFile } from 'node:child_process';

export interface CommandResult {
  ok: boolean;
  /** exit code, or null when killed (timeout, stop) or the program could not be started */
  code: number | null;
  stdout: string;
  stderr: string;
  error: string | null;
}

export function commandArgv(command: string, runAsRoot: boolean, isRoot: boolean): string[] {
  const argv = command.split(/\s+/).filter((s) => s !== '');
  return runAsRoot && !isRoot ? ['sudo', '-n', ...argv] : argv;
}

export function runCommand(command: string, opts: { runAsRoot: boolean; timeoutMs: number; signal?: AbortSignal }): Promise<CommandResult> {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const [file, ...args] = commandArgv(command, opts.runAsRoot, isRoot);
  if (!file) return Promise.resolve({ ok: false, code: null, stdout: '', stderr: '', error: 'empty command' });
  return new Promise((resolve) => {
    execFile(file, args, { timeout: opts.timeoutMs, killSignal: 'SIGKILL', signal: opts.signal, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, code: 0, stdout, stderr, error: null });
      const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
      const code = typeof e.code === 'number' ? e.code : null;
      const error =
        e.code === 'ENOENT'
          ? `command not found: ${file}`
          : e.killed
            ? `killed after ${opts.timeoutMs} ms (timeout or stop)`
            : code !== null
              ? `exit code ${code}`
              : e.message;
      resolve({ ok: false, code, stdout, stderr, error });
    });
  });
}
