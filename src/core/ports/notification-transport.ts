// How delivery hands one notification to the controller. core owns this interface; implementations: HTTP
// (src/drivers/delivery/http-transport.ts: a remote masakari-api, ours or OpenStack's, through the shared outbound
// HTTP client) and local (src/core/delivery/local-transport.ts: the controller in the same process, --role=all).
// The outbox only sees the outcome. The wire format of POST /v1/notifications is here too: every transport maps
// the controller's answer the same way.

import type { AgentHeartbeat } from './heartbeat.ts';
import type { NotificationDraft } from './notify.ts';

export type SendOutcome =
  /** 2xx: the controller stored it. */
  | { kind: 'accepted'; status: number }
  /** 409: already sent (duplicate) or the host is on maintenance. Either way: done, never resend. */
  | { kind: 'conflict'; status: number; message: string }
  /** 400: the controller will never accept this draft (unknown host, bad payload). Parked for an operator. */
  | { kind: 'rejected'; status: number; message: string }
  /** Anything else (network error, timeout, 5xx, 401...): try again later. */
  | { kind: 'retry'; message: string };

export interface NotificationTransport {
  /** Names the transport in the outbox's log lines ("http", "local"). */
  readonly name: string;
  /** One attempt; never throws for a failed delivery (that is a 'retry' outcome), only when `signal` aborted it. */
  send(draft: NotificationDraft, signal?: AbortSignal): Promise<SendOutcome>;
  /**
   * One heartbeat (POST /v1/x-masakari/heartbeats), same auth as send(); never throws for a failed delivery. Optional:
   * a transport without it (a test double) sends none. Heartbeats are not queued: a lost one is replaced by the next.
   */
  heartbeat?(hb: AgentHeartbeat, signal?: AbortSignal): Promise<SendOutcome>;
}

/** Masakari's request body for POST /v1/notifications. */
export function notificationBody(draft: NotificationDraft): { notification: NotificationDraft } {
  return {
    notification: {
      type: draft.type,
      hostname: draft.hostname,
      generated_time: draft.generated_time,
      payload: draft.payload,
    },
  };
}

/** Maps an HTTP status to what the outbox does with the draft. */
export function outcomeOfStatus(status: number, message: string): SendOutcome {
  if (status >= 200 && status < 300) return { kind: 'accepted', status };
  if (status === 409) return { kind: 'conflict', status, message };
  if (status === 400) return { kind: 'rejected', status, message };
  return { kind: 'retry', message: `HTTP ${status}: ${message}` };
}

/** Pulls Masakari's fault message out of an error body ({"badRequest": {"code": 400, "message": "..."}}). */
export function faultMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    for (const v of Object.values(parsed)) {
      if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') {
        return (v as { message: string }).message;
      }
    }
  } catch {
    // not JSON (an HTML error page from a proxy): fall through
  }
  return body.replace(/\s+/g, ' ').trim().slice(0, 300);
}
