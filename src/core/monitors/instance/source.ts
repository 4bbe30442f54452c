// What the instance monitor needs from a hypervisor: a stream of domain events in libvirt's own terms (the terms
// masakari's notifications are defined in). The libvirt driver implements it (src/drivers/libvirt/event-source.ts);
// core never imports the driver.

/** The domain an event is about. */
export interface DomainRef {
  uuid: string;
  name: string;
}

/** A libvirt domain event; numbers are libvirt's enum values (virDomainEventType, details, actions). */
export type DomainEvent =
  | { kind: 'lifecycle'; domain: DomainRef; event: number; detail: number }
  | { kind: 'reboot'; domain: DomainRef }
  | { kind: 'watchdog'; domain: DomainRef; action: number }
  | { kind: 'io-error'; domain: DomainRef; srcPath: string; devAlias: string; action: number }
  | { kind: 'io-error-reason'; domain: DomainRef; srcPath: string; devAlias: string; action: number; reason: string }
  | { kind: 'control-error'; domain: DomainRef };

export type DomainEventKind = DomainEvent['kind'];

/** The source's link to the hypervisor, for the agent's heartbeat: connected or not, and since when. */
export interface SourceConnectionState {
  connected: boolean;
  since: Date;
  /** Why the link was lost (libvirt's close reason, the last connect error); null while connected. */
  reason: string | null;
}

export interface DomainEventSource {
  /** The link to the hypervisor right now (optional: sources without a connection, e.g. the simulator's, omit it). */
  connectionState?(): SourceConnectionState;
  /**
   * Delivers every domain event of the host to `onEvent` until stop(). Keeps doing so across hypervisor
   * restarts (reconnecting by itself). Resolves once the first connection attempt was made, even if it failed.
   */
  start(onEvent: (ev: DomainEvent) => void): Promise<void>;
  stop(): Promise<void>;
  /** Whether the hypervisor connection is up now (for the metrics); absent: the source cannot tell. */
  connected?(): boolean;
}
