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
          const o = JSON.parse(line) as { time?: string; level?: number; msg?: string; component?: string; [key: string]: unknown };
          const { time, level: lv, msg, component, ...rest } = o;
          const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
          process.stderr.write(`${time} ${pino.levels.labels[lv as number] ?? lv} ${component ? `[${component}] ` : ''}${msg ?? ''}${extra}\n`);
        },
      },
    );
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything (tests, the simulator). */
export const silentLogger: Logger = pino({ level: 'silent' });
