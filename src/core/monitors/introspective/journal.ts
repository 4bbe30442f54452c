// Per-domain memory of guest-agent pings: decides when a failure episode deserves a notification.
//
// Rules (masakari-introspectiveinstancemonitor's state machine, simplified):
// - discovery: the agent has not answered since the domain started. Failures here are NOT counted: the guest may
//   still be booting, or has no agent installed. (masakari: state 'discovery'.)
// - healthy: the agent answered last time.
// - failing: consecutive failures after a healthy answer; at `threshold` of them the episode is reported, once.
// - reported: notified; stays so until the agent answers again (a new episode can then start).
// Difference from masakari: it sends after `threshold` consecutive failures; masakari, because of where it counts,
// sends after threshold + 2 (5 with the default 3). A restart of the domain (new run id) starts over in discovery.

export type AgentPhase = 'discovery' | 'healthy' | 'failing' | 'reported';

export class AgentJournal {
  phase: AgentPhase = 'discovery';
  /** Consecutive failed pings (in every phase, for logs). */
  failures = 0;

  constructor(readonly runId: number) {}

  /** Records one ping result; returns true exactly when this result must be reported. */
  record(ok: boolean, threshold: number): boolean {
    if (ok) {
      this.phase = 'healthy';
      this.failures = 0;
      return false;
    }
    this.failures++;
    switch (this.phase) {
      case 'discovery':
      case 'reported':
        return false;
      case 'healthy':
        this.phase = 'failing';
        break;
      case 'failing':
        break;
    }
    if (this.failures >= threshold) {
      this.phase = 'reported';
      return true;
    }
    return false;
  }
}
