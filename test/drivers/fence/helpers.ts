// Helpers shared by the fencing driver tests: a logger whose lines the test can read, and a fencer built from config
// exactly as the controller builds it (through the zod section, so defaults and validation are the real ones).

import { pino } from 'pino';
import type { Logger } from '../../../src/core/log.ts';
import { fencingSection } from '../../../src/core/config/sections/fencing.ts';
import { createFencer, type FencerDeps } from '../../../src/drivers/fence/registry.ts';

export interface CapturedLog {
  logger: Logger;
  lines: string[];
  text(): string;
  /** Parsed lines with the given message prefix. */
  find(msgPrefix: string): Record<string, unknown>[];
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const logger = pino({ level: 'trace', base: undefined }, { write: (s: string) => void lines.push(s) });
  return {
    logger,
    lines,
    text: () => lines.join(''),
    find: (prefix) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => typeof o.msg === 'string' && o.msg.startsWith(prefix)),
  };
}

/** Fast timing for tests: short waits, but bounded everywhere. */
export const FAST = {
  timeout_seconds: 10,
  retries: 1,
  retry_backoff_seconds: 0.05,
  confirm_timeout_seconds: 3,
  poll_interval_seconds: 0.1,
};

export function fencerFor(hosts: Record<string, unknown>, deps: FencerDeps = {}, defaults: Record<string, unknown> = FAST) {
  return createFencer(fencingSection.parse({ defaults, hosts }), deps);
}

/** Runs `fn`, expecting it to reject; returns the error. */
export async function rejection(fn: () => Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection, but it resolved');
}
