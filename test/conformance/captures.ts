// Reads the recorded request/response pairs of the real Masakari 14.0.2, committed in test/fixtures/masakari-captures/
// (where and how they were recorded: test/fixtures/README.md).

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CAPTURES_DIR = resolve(import.meta.dirname, '../fixtures/masakari-captures');

export interface Capture {
  /** File name without .txt, e.g. "014_seg_create_ok_v10". */
  name: string;
  method: string;
  path: string;
  requestHeaders: Record<string, string>;
  /** undefined when the request had no body; `bodyFromFile` when the capture only names the file it sent. */
  requestBody: string | undefined;
  bodyFromFile: { file: string; bytes: number } | undefined;
  status: number;
  /** Lower-cased header names. */
  responseHeaders: Record<string, string>;
  responseBody: string;
}

function headers(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return out;
}

export function parseCapture(name: string, text: string): Capture {
  const req = text.indexOf('### REQUEST\n');
  const resp = text.indexOf('\n### RESPONSE\n');
  if (req !== 0 || resp < 0) throw new Error(`${name}: not a request/response capture`);
  const reqPart = text.slice('### REQUEST\n'.length, resp);
  const respPart = text.slice(resp + '\n### RESPONSE\n'.length);

  const [reqHead = '', ...reqRest] = reqPart.split('\n\n');
  const [requestLine = '', ...reqHeaderLines] = reqHead.split('\n');
  const [method = '', path = ''] = requestLine.split(' ');
  const rawBody = reqRest.join('\n\n').replace(/\n+$/, '');
  const fromFile = /^<body from file (.+): (\d+) bytes>$/.exec(rawBody);

  const blank = respPart.indexOf('\n\n');
  const respHead = blank < 0 ? respPart : respPart.slice(0, blank);
  const [statusLine = '', ...respHeaderLines] = respHead.split('\n');
  const status = Number(statusLine.split(' ')[1]);
  const responseBody = blank < 0 ? '' : respPart.slice(blank + 2).replace(/\n+$/, '');

  return {
    name,
    method,
    path,
    requestHeaders: Object.fromEntries(
      reqHeaderLines.filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]),
    ),
    requestBody: rawBody === '' || fromFile ? undefined : rawBody,
    bodyFromFile: fromFile ? { file: fromFile[1]!, bytes: Number(fromFile[2]) } : undefined,
    status,
    responseHeaders: headers(respHeaderLines),
    responseBody,
  };
}

/** The API captures in recorded order (the engine_* files beside them are the engine's recorded flows). */
export function loadCaptures(dir = CAPTURES_DIR): Capture[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_.*\.txt$/.test(f))
    .sort()
    .map((f) => parseCapture(f.replace(/\.txt$/, ''), readFileSync(join(dir, f), 'utf8')));
}
