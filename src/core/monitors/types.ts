// The one shape every monitor (instance, introspective, process, host) has, so the compute role can start and
// stop them all the same way without knowing what they watch.

export interface Monitor {
  /** Short stable name used in logs and status output, e.g. "instance", "process". */
  readonly name: string;
  /** Begins watching. Resolves once the monitor is running (or has scheduled its own retries). */
  start(): Promise<void>;
  /** Stops watching and releases every resource (connections, timers, child processes). Safe to call twice. */
  stop(): Promise<void>;
  /** Sets the monitor's state gauges (connection, last sample age); run before each metrics scrape. */
  reportMetrics?(): void;
  /**
   * What the monitor can say about its own health right now, as plain JSON, for the agent's heartbeat to the controller
   * (docs/protection.md lists the fields each monitor reports and which of them make a host unprotected).
   */
  health?(): Record<string, unknown>;
}
