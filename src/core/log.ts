import { pino, type Logger } from 'pino';

export type { Logger };

/** One logger per process; children carry a `component` field. Logs go to stderr so stdout stays for command output. */
export function createLogger(level: string, format: 'json' | 'pretty' = 'json'): Logger {
  if (format === 'pretty') {
    // Minimal human format without pino-pretty (a worker-thread transport does not bundle into one executable).
    return pino(
      { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
      {
        write(line: string) {
          const o = JSON.parse(line) as Record<string, unknown>;
          const { time, level: lv, msg, component, ...rest } = o;
          const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
          process.stderr.write(`${time} ${pino.levels.labels[lv as number] ?? lv} ${component ? `[${component}] ` : ''}${msg ?? ''}${extra}\n`);
        },
      },
    );
  }
  // Synchronous: an asynchronous destination writes through libuv's threadpool, which calls to a frozen libvirtd
  // can fill (docs/libvirt.md); the log would then stall exactly when it is needed, and lines still queued when the
  // process ends (src/core/exit.ts does not wait for that threadpool) would be lost.
  const dest = pino.destination({ fd: 2, sync: true });
  // A log line that cannot be written (stderr a closed pipe: `masakari ... | tee` ended) is lost, never fatal: an
  // unhandled 'error' here used to kill the process in the middle of a shutdown.
  dest.on('error', () => undefined);
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

const brokenStdioTolerated = new WeakSet<NodeJS.WriteStream>();

/**
 * Output that cannot be written is dropped instead of ending the process: stdout or stderr may be a pipe whose reader
 * is gone (EPIPE). Called by the long-running roles, whose shutdown must finish whatever happened to the terminal.
 */
export function tolerateBrokenStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (!brokenStdioTolerated.has(stream)) stream.on('error', () => undefined);
    brokenStdioTolerated.add(stream);
  }
}

/** A logger that drops everything (tests, the simulator). */
export const silentLogger: Logger = pino({ level: 'silent' });
