// Agent heartbeats (docs/protection.md): the row <-> record mapping both dialects share.

import { dateFromMicros } from '../../domain/time.ts';
import type { AgentHeartbeat, StoredHeartbeat } from '../../ports/heartbeat.ts';

export interface HeartbeatColumns {
  host: string;
  received_at: number;
  body: string;
}

export function toStoredHeartbeat(r: HeartbeatColumns): StoredHeartbeat {
  return { host: r.host, receivedAt: dateFromMicros(Number(r.received_at)), heartbeat: JSON.parse(r.body) as AgentHeartbeat };
}
