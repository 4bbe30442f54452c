// A notification's payload read once into a typed failure event. The API stores the payload as the monitor sent it
// (schema-checked, but still strings in a bag); the engine takes it in here, and every decision after (dispatch,
// the guards, the workflows' inputs, the per-instance claim) reads typed fields instead of re-reading the bag.
// Event names are compared upper-cased, as Masakari does; `eventText` keeps the value as received, for the
// messages that quote it.

import type { Notification } from '../domain/model.ts';

interface EventCommon {
  readonly uuid: string;
  /** payload.event upper-cased; undefined when absent or not a string. */
  readonly event: string | undefined;
  /** payload.event as received, as text ("undefined" when absent): quoted in messages. */
  readonly eventText: string;
}

/** COMPUTE_HOST: a host monitor's report on a whole host. */
export interface HostEvent extends EventCommon {
  readonly type: 'COMPUTE_HOST';
  /** payload.host_status upper-cased: NORMAL (the host is reported down or up) or UNKNOWN. */
  readonly hostStatus: string | undefined;
}

/** VM: an instance monitor's report on one instance. */
export interface InstanceEvent extends EventCommon {
  readonly type: 'VM';
  readonly instanceUuid: string | undefined;
  /** payload.vir_domain_event upper-cased. */
  readonly virDomainEvent: string | undefined;
}

/** PROCESS: a process monitor's report on one service of a live host. */
export interface ProcessEvent extends EventCommon {
  readonly type: 'PROCESS';
  readonly processName: string | undefined;
}

export type FailureEvent = HostEvent | InstanceEvent | ProcessEvent;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const upper = (v: unknown): string | undefined => text(v)?.toUpperCase();

export function failureEvent(n: Notification): FailureEvent {
  const p = n.payload;
  const common = { uuid: n.uuid, event: upper(p.event), eventText: String(p.event) };
  switch (n.type) {
    case 'COMPUTE_HOST':
      return { ...common, type: 'COMPUTE_HOST', hostStatus: upper(p.host_status) };
    case 'VM':
      return { ...common, type: 'VM', instanceUuid: text(p.instance_uuid), virDomainEvent: upper(p.vir_domain_event) };
    case 'PROCESS':
      return { ...common, type: 'PROCESS', processName: text(p.process_name) };
  }
}

/** A host reported down (COMPUTE_HOST STOPPED, host_status NORMAL): the event that starts a host recovery. */
export const isHostDown = (e: FailureEvent): e is HostEvent => e.type === 'COMPUTE_HOST' && e.event === 'STOPPED' && e.hostStatus === 'NORMAL';

/** Masakari's instance_events: the only (event, vir_domain_event) pairs that start a recovery. */
export const RECOVERABLE_VM_EVENTS: Record<string, string[]> = {
  LIFECYCLE: ['STOPPED_FAILED'],
  QEMU_GUEST_AGENT_ERROR: ['STOPPED_FAILED'],
  IO_ERROR: ['IO_ERROR_REPORT'],
};

export function isRecoverableVmEvent(e: InstanceEvent): boolean {
  return (RECOVERABLE_VM_EVENTS[e.event ?? ''] ?? []).includes(e.virDomainEvent ?? '');
}
