// Validation of POST /v1/x-masakari/heartbeats: the agent's heartbeat (src/core/ports/heartbeat.ts). Strict on the
// fields the controller judges by, open on each monitor's details (they are shown as sent).

import { z } from 'zod';
import { badRequest } from '../domain/errors.ts';
import type { AgentHeartbeat } from '../ports/heartbeat.ts';

const heartbeat = z.strictObject({
  host: z.string().min(1).max(255),
  version: z.string().min(1).max(64),
  interval_seconds: z.number().positive().max(86_400),
  sent_at: z.string().max(64),
  monitors: z.record(z.string().min(1).max(64), z.record(z.string(), z.unknown())),
  outbox: z.strictObject({
    pending: z.number().int().min(0),
    rejected: z.number().int().min(0),
    oldest_pending_age_seconds: z.number().min(0).nullable(),
  }),
});

const body = z.strictObject({ heartbeat });

/** The heartbeat in a request body, or Masakari's 400 naming the first bad field. */
export function parseHeartbeatBody(raw: unknown): AgentHeartbeat {
  const r = body.safeParse(raw);
  if (r.success) return r.data.heartbeat;
  const issue = r.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : 'body';
  throw badRequest(`Invalid heartbeat: ${path}: ${issue.message}`);
}
