// The compute agent's heartbeat: what it tells its controller every compute.heartbeat_interval seconds, over the same
// transport and auth as its notifications (POST /v1/x-masakari/heartbeats; in-process under --role=all). The
// controller keeps the latest one per host and judges protection from it (src/core/protection/, docs/protection.md).

/** The body of POST /v1/x-masakari/heartbeats: `{"heartbeat": AgentHeartbeat}`. */
export interface AgentHeartbeat {
  /** The host name the agent reports notifications as (compute.hostname). */
  host: string;
  /** masakari's version on the agent. */
  version: string;
  /** The agent's compute.heartbeat_interval: the controller's default timeout is 3 times it. */
  interval_seconds: number;
  /** The agent's clock when it sent this one (the controller records its own receive time too). */
  sent_at: string;
  /**
   * Health per enabled monitor, by monitor name (instance, host, process, introspective): what each Monitor.health()
   * returned. The controller reads instance.libvirt.connected and host.last_sample.quorate; the rest is shown as is.
   */
  monitors: Record<string, Record<string, unknown>>;
  /** The outbox: drafts not yet delivered, parked ones (rejected), and how long the oldest undelivered one has waited. */
  outbox: { pending: number; rejected: number; oldest_pending_age_seconds: number | null };
}

/** A stored heartbeat: the last one received from a host, with the controller's receive time. */
export interface StoredHeartbeat {
  host: string;
  receivedAt: Date;
  heartbeat: AgentHeartbeat;
}
