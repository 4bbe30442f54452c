// What a monitor produces and hands to delivery. The wire shape is masakari-monitors' exactly
// (body of POST /v1/notifications), so the real masakari-api understands our monitors.

import type { NotificationType } from '../domain/model.ts';

export interface NotificationDraft {
  type: NotificationType;
  /** The host the failure is about (for COMPUTE_HOST: the failed peer's cluster node name). */
  hostname: string;
  /** Naive UTC ISO-8601 with microseconds, e.g. "2026-11-22T02:17:33.487258" (what masakari-monitors send). */
  generated_time: string;
  payload: Record<string, string>;
}

/** Accepts a draft for delivery. Resolves once the draft is durable (outbox) or handed over in process. */
export interface NotificationSink {
  submit(draft: NotificationDraft): Promise<void>;
}

/** masakari-monitors' generated_time format: naive UTC, microseconds. */
export function monitorTimestamp(d: Date): string {
  return d
    .toISOString()
    .replace('Z', '')
    .replace(/\.(\d{3})$/, '.$1000');
}
