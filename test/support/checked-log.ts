// A logger for tests that checks every JSON line the production logger writes: each line must parse, and no object
// in it may carry the same key twice. JSON.parse keeps the last of two equal keys without a word, and log collectors
// keep one or reject the line, so a duplicate ("component":"nova","component":"openstack") is found only by a
// parser that looks for it, this one.

import { createLogger, type Logger } from '../../src/core/log.ts';

export interface CheckedLog {
  log: Logger;
  /** Every line written, as written. */
  readonly raw: string[];
  /** Every line that passed the check, parsed. */
  readonly lines: Record<string, unknown>[];
  /** One entry per bad line: the reason and the line. */
  readonly problems: string[];
}

export function checkedLogger(level = 'trace'): CheckedLog {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const problems: string[] = [];
  const log = createLogger(level, 'json', {
    write(chunk: string) {
      for (const line of chunk.split('\n').filter(Boolean)) {
        raw.push(line);
        try {
          lines.push(parseStrictJson(line) as Record<string, unknown>);
        } catch (e) {
          problems.push(`${(e as Error).message}: ${line}`);
        }
      }
    },
  });
  return { log, raw, lines, problems };
}

/** JSON.parse that throws on a key repeated within one object (and on anything that is not JSON). */
export function parseStrictJson(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${i}`);
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') return (i++, out);
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = str();
        if (seen.has(key)) fail(`duplicate key "${key}"`);
        seen.add(key);
        ws();
        if (text[i++] !== ':') fail('expected ":"');
        out[key] = value();
        ws();
        const sep = text[i++];
        if (sep === '}') return out;
        if (sep !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') return (i++, out);
      for (;;) {
        out.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return out;
        if (sep !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) fail('unexpected character');
    i += m![0].length;
    return JSON.parse(m![0]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
