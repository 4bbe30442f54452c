// Small helpers shared by the built-in tasks.

import type { TaskContext } from '../task.ts';
import { pollUntil } from '../poll.ts';

/** oslo's strutils.bool_from_string, as Masakari reads the HA_Enabled metadata. */
export function boolFromString(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return false;
  return ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.trim().toLowerCase());
}

export const seconds = (s: number) => Math.round(s * 1000);

/** Polls every verify_interval, at most `timeoutSeconds`. */
export function waitFor(ctx: TaskContext, timeoutSeconds: number, check: () => Promise<boolean>): Promise<boolean> {
  return pollUntil(ctx.env, check, {
    intervalMs: seconds(ctx.config.engine.verify_interval),
    timeoutMs: seconds(timeoutSeconds),
    signal: ctx.signal,
  });
}
