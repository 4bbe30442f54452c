// Public surface of the libvirt bindings. Everything else in this folder is an implementation detail.
export * from './constants.ts';
export { LibvirtError } from './errors.ts';
export { libvirtAvailable, LibvirtUnavailableError } from './ffi.ts';
export {
  LibvirtConnection,
  closesSettled,
  type OpenOptions,
  type Subscription,
  type DomainSummary,
  type DomainListFilter,
  type NodeInfo,
} from './connection.ts';
export { Domain, type DomainStateInfo, type DomainInfo } from './domain.ts';
export { ALL_EVENT_KINDS, setEventHandlerErrorSink, type DomainEvent, type DomainEventKind, type DomainRef, type EventOf } from './events.ts';
export { eventLoopState } from './event-loop.ts';
