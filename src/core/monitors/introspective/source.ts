// What the introspective monitor needs from a hypervisor: the running domains that have a guest-agent channel,
// and a way to ping their agent. The libvirt driver implements it (src/drivers/libvirt/guest-agent-source.ts).

export interface AgentDomain {
  uuid: string;
  name: string;
  /** Changes every time the domain is started (libvirt's domain id): a new run starts a fresh journal. */
  runId: number;
}

/**
 * ok: the agent answered. failed: it did not (unresponsive, timed out, error reply): counts toward an episode.
 * unknown: we could not ask (hypervisor connection lost, domain stopped meanwhile): does not count either way.
 */
export type PingResult = { outcome: 'ok' } | { outcome: 'failed'; reason: string } | { outcome: 'unknown'; reason: string };

export interface GuestAgentSource {
  /** Whether the hypervisor connection is up now (for the metrics); absent: the source cannot tell. */
  connected?(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Running domains with a QEMU guest-agent channel. Throws when the hypervisor cannot be asked right now. */
  listAgentDomains(): Promise<AgentDomain[]>;
  /** One guest-ping with a time limit in whole seconds. Never throws. */
  ping(uuid: string, timeoutSec: number): Promise<PingResult>;
}
