// Domain events as plain TS values, and the bridge from libvirt's C callbacks to JS handlers.
//
// Each C callback signature gets ONE koffi trampoline, registered once per process and never unregistered; the
// `opaque` pointer libvirt hands back is a small integer that names the JS handler in a Map. Why: a callback that
// the loop thread has already queued to the main thread can still arrive after we deregistered it; with a
// permanent trampoline it finds no handler and is dropped, instead of jumping through a freed koffi pointer.
// It also means subscribe/unsubscribe cycles allocate nothing native (checked by the leak test).

import { EventId } from './constants.ts';
import type { Native, Ptr } from './ffi.ts';

// The event shapes are core's (the instance monitor's port); this driver produces them.
import type { DomainEvent, DomainEventKind, DomainRef } from '../../core/monitors/instance/source.ts';
export type { DomainEvent, DomainEventKind, DomainRef };

export type EventOf<K extends DomainEventKind> = Extract<DomainEvent, { kind: K }>;

export const eventIdOf: Record<DomainEventKind, number> = {
  lifecycle: EventId.LIFECYCLE,
  reboot: EventId.REBOOT,
  watchdog: EventId.WATCHDOG,
  'io-error': EventId.IO_ERROR,
  'io-error-reason': EventId.IO_ERROR_REASON,
  'control-error': EventId.CONTROL_ERROR,
};

export const ALL_EVENT_KINDS: readonly DomainEventKind[] = Object.keys(eventIdOf) as DomainEventKind[];

type Handler = (ev: DomainEvent) => void;
const handlers = new Map<number, Handler>();
let nextId = 1;
const trampolines = new Map<DomainEventKind, bigint>();
/** Errors thrown by handlers: reported here instead of being swallowed by koffi (which would return 0 to C). */
let onHandlerError: (err: unknown) => void = (err) =>
  queueMicrotask(() => {
    throw err;
  });

export function setEventHandlerErrorSink(fn: (err: unknown) => void): void {
  onHandlerError = fn;
}

/** Reads name and UUID from a domain pointer that is valid right now. */
export function domainRef(n: Native, dom: Ptr): DomainRef {
  const buf = Buffer.alloc(37);
  const uuid = n.fn.virDomainGetUUIDString(dom, buf) === 0 ? buf.toString('latin1', 0, 36) : '';
  const name = (n.fn.virDomainGetName(dom) as string | null) ?? '';
  return { uuid, name };
}

function deliver(opaque: Ptr | null, make: () => DomainEvent): void {
  const h = opaque === null ? undefined : handlers.get(Number(opaque));
  if (!h) return; // deregistered while the call was queued: drop it
  try {
    h(make());
  } catch (err) {
    onHandlerError(err);
  }
}

function trampoline(n: Native, kind: DomainEventKind): bigint {
  const existing = trampolines.get(kind);
  if (existing !== undefined) return existing;
  const { koffi, protos } = n;
  let ptr: bigint;
  switch (kind) {
    case 'lifecycle':
      ptr = koffi.register((_c: Ptr, dom: Ptr, event: number, detail: number, opaque: Ptr | null) => {
        deliver(opaque, () => ({ kind, domain: domainRef(n, dom), event, detail }));
        return 0;
      }, koffi.pointer(protos.lifecycle));
      break;
    case 'reboot':
    case 'control-error':
      ptr = koffi.register((_c: Ptr, dom: Ptr, opaque: Ptr | null) => {
        deliver(opaque, () => ({ kind, domain: domainRef(n, dom) }));
      }, koffi.pointer(protos.generic));
      break;
    case 'watchdog':
      ptr = koffi.register((_c: Ptr, dom: Ptr, action: number, opaque: Ptr | null) => {
        deliver(opaque, () => ({ kind, domain: domainRef(n, dom), action }));
      }, koffi.pointer(protos.watchdog));
      break;
    case 'io-error':
      ptr = koffi.register((_c: Ptr, dom: Ptr, srcPath: string | null, devAlias: string | null, action: number, opaque: Ptr | null) => {
        deliver(opaque, () => ({ kind, domain: domainRef(n, dom), srcPath: srcPath ?? '', devAlias: devAlias ?? '', action }));
      }, koffi.pointer(protos.ioError));
      break;
    case 'io-error-reason':
      ptr = koffi.register((_c: Ptr, dom: Ptr, srcPath: string | null, devAlias: string | null, action: number, reason: string | null, opaque: Ptr | null) => {
        deliver(opaque, () => ({ kind, domain: domainRef(n, dom), srcPath: srcPath ?? '', devAlias: devAlias ?? '', action, reason: reason ?? '' }));
      }, koffi.pointer(protos.ioErrorReason));
      break;
  }
  trampolines.set(kind, ptr);
  return ptr;
}

/** Allocates a handler slot; returns the trampoline to give libvirt and the opaque value naming the slot. */
export function allocHandler(n: Native, kind: DomainEventKind, h: Handler): { cb: bigint; slot: number } {
  const slot = nextId++;
  handlers.set(slot, h);
  return { cb: trampoline(n, kind), slot };
}

export function freeHandler(slot: number): void {
  handlers.delete(slot);
}

/** How many JS handlers are live (the leak test checks it returns to its starting value). */
export function liveHandlerCount(): number {
  return handlers.size;
}
