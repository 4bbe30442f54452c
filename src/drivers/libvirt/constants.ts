// libvirt's public enum values (libvirt-domain.h, virterror.h). They are part of libvirt's stable ABI, so
// numbers are safe to hard-code; names are kept close to libvirt's so they can be searched for in its docs.

/** virDomainEventID: which kind of domain event a callback is registered for. */
export const EventId = {
  LIFECYCLE: 0,
  REBOOT: 1,
  RTC_CHANGE: 2,
  WATCHDOG: 3,
  IO_ERROR: 4,
  GRAPHICS: 5,
  IO_ERROR_REASON: 6,
  CONTROL_ERROR: 7,
} as const;

/** virDomainEventType: the `event` argument of a lifecycle callback. */
export const LifecycleEvent = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;

export const SuspendedDetail = {
  PAUSED: 0,
  MIGRATED: 1,
  IOERROR: 2,
  WATCHDOG: 3,
  RESTORED: 4,
  FROM_SNAPSHOT: 5,
  API_ERROR: 6,
  POSTCOPY: 7,
  POSTCOPY_FAILED: 8,
} as const;

export const StoppedDetail = {
  SHUTDOWN: 0,
  DESTROYED: 1,
  CRASHED: 2,
  MIGRATED: 3,
  SAVED: 4,
  FAILED: 5,
  FROM_SNAPSHOT: 6,
} as const;

export const ShutdownDetail = { FINISHED: 0, GUEST: 1, HOST: 2 } as const;

export const WatchdogAction = {
  NONE: 0,
  PAUSE: 1,
  RESET: 2,
  POWEROFF: 3,
  SHUTDOWN: 4,
  DEBUG: 5,
  INJECTNMI: 6,
} as const;

export const IoErrorAction = { NONE: 0, PAUSE: 1, REPORT: 2 } as const;

/** virDomainState. */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;
export type DomainStateName = keyof typeof DomainState;

export function domainStateName(code: number): DomainStateName | 'UNKNOWN' {
  for (const [k, v] of Object.entries(DomainState)) if (v === code) return k as DomainStateName;
  return 'UNKNOWN';
}

/** virConnectCloseReason: why libvirt closed a connection behind our back. */
export const CloseReason = { ERROR: 0, EOF: 1, KEEPALIVE: 2, CLIENT: 3 } as const;
export function closeReasonName(code: number): string {
  for (const [k, v] of Object.entries(CloseReason)) if (v === code) return k;
  return `UNKNOWN(${code})`;
}

/** virConnectListAllDomainsFlags (the ones we use). */
export const ListFlags = { ACTIVE: 1, INACTIVE: 2 } as const;

/** virDomainMetadataType. ELEMENT is custom XML under our own namespace. */
export const MetadataType = { DESCRIPTION: 0, TITLE: 1, ELEMENT: 2 } as const;

/** virDomainModificationImpact. */
export const Affect = { CURRENT: 0, LIVE: 1, CONFIG: 2 } as const;

/** virDomainUndefineFlagsValues (the ones a recovery driver may need). */
export const UndefineFlags = { MANAGED_SAVE: 1, SNAPSHOTS_METADATA: 2, NVRAM: 4, KEEP_NVRAM: 8 } as const;

/** virErrorNumber: the codes callers branch on. Others still reach LibvirtError.libvirtCode as numbers. */
export const ErrorCode = {
  OK: 0,
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  XML_DETAIL: 35,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  ARGUMENT_UNSUPPORTED: 74,
  NO_DOMAIN_METADATA: 80,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  XML_INVALID_SCHEMA: 92,
  AGENT_UNSYNCED: 97,
  MULTIPLE_DOMAINS: 110,
} as const;

export function errorCodeName(code: number): string {
  for (const [k, v] of Object.entries(ErrorCode)) if (v === code) return k;
  return `CODE_${code}`;
}

/** virDomainQemuAgentCommandTimeoutValues: timeouts below 0 are these special values, otherwise seconds. */
export const AgentTimeout = { BLOCK: -2, DEFAULT: -1, NOWAIT: 0 } as const;
