// A real pino logger whose lines land in an array (synchronously), so tests can read what the API logged.

import { pino, type Logger } from 'pino';

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface CapturedLog {
  log: Logger;
  lines: LogLine[];
  /** Resolves with the first line (already logged or coming) that matches; rejects after `ms`. */
  waitFor(match: (l: LogLine) => boolean, ms?: number, what?: string): Promise<LogLine>;
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export function captureLog(level = 'debug'): CapturedLog {
  const lines: LogLine[] = [];
  const log = pino({ level, base: undefined }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return {
    log,
    lines,
    async waitFor(match, ms = 3000, what = 'a log line') {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = lines.find(match);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no ${what} in the log; got:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
