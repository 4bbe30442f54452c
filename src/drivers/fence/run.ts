// Runs one external fencing program (ipmitool, fence_*) with a hard deadline.
// The child gets its own process group, so a timeout kills the whole tree: fence agents run ipmitool or ssh
// underneath, and an orphaned ipmitool would keep talking to the BMC after we gave up on it.
// The child's environment is built from scratch (PATH, C locale, plus what the caller passes): the controller's own
// environment may hold other secrets, and a fixed locale keeps the output we parse in English.

import { spawn } from 'node:child_process';
import { FenceError } from './errors.ts';

export interface RunOptions {
  /** Written to stdin, which is then closed (fence agents read key=value lines until EOF). */
  stdin?: string;
  /** Extra environment variables, e.g. IPMI_PASSWORD. */
  env?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Output beyond this is dropped: a fence program that floods its output must not exhaust our memory. */
const MAX_OUTPUT = 64 * 1024;
/** After SIGTERM on timeout, how long the group gets before SIGKILL. */
const KILL_GRACE_MS = 500;
/** After the program exited, how long to wait for its output pipes to close. */
const EXIT_CLOSE_GRACE_MS = 200;

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Resolves with the exit status and output whatever the exit code (callers interpret codes: fence agents exit 2 for
 * "off"). Rejects with FenceError 'timeout' when the deadline passes, 'aborted' when the signal fires, and 'config'
 * when the program cannot be started at all.
 */
export function runProgram(file: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new FenceError('aborted', `${file}: aborted before start`));
    const child = spawn(file, args, {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH || DEFAULT_PATH, LC_ALL: 'C', LANG: 'C', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    let failure: FenceError | null = null;

    // On timeout or abort the caller gets its answer at once: waiting for the child to close its pipes could take
    // forever if a grandchild left the group holding them.
    const stop = (err: FenceError) => {
      if (failure) return;
      failure = err;
      killGroup(child.pid, 'SIGTERM');
      // Armed even if the child exits at once: grandchildren in its group may ignore SIGTERM. unref: it must not
      // keep the process alive.
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
      finish(() => reject(err));
    };
    const deadline = setTimeout(
      () => stop(new FenceError('timeout', `${file} did not finish within ${opts.timeoutMs / 1000} s and was killed`)),
      opts.timeoutMs,
    );
    const onAbort = () => stop(new FenceError('aborted', `${file}: aborted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };

    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const msg =
        e.code === 'ENOENT' ? `program not found: ${file}` : e.code === 'EACCES' ? `program not executable: ${file}` : `cannot run ${file}: ${e.message}`;
      finish(() => reject(new FenceError('config', msg)));
    });
    // 'close' (not 'exit'): all output has been read by then. But a program may leave a background child holding
    // its stdout open; then 'close' waits for that child, so after 'exit' the output read so far is enough.
    const done = (code: number | null, sig: NodeJS.Signals | null) => finish(() => resolve({ code, signal: sig, stdout, stderr }));
    child.on('close', done);
    child.on('exit', (code, sig) => setTimeout(() => done(code, sig), EXIT_CLOSE_GRACE_MS));
    // A program that exits without reading stdin closes the pipe: EPIPE here is not our failure.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  });
}
