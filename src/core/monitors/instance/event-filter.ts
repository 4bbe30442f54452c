// Which libvirt domain events become VM notifications, and with which names: masakari-instancemonitor's filter
// (instancemonitor/libvirt_handler/eventfilter_table.py), so that a masakari engine treats our notifications
// exactly like the ones of the Python monitor. Everything not listed here is not sent at all.
//
// Numbers are libvirt's enum values (libvirt-domain.h); they are stable ABI.

import type { DomainEvent } from './source.ts';

/** The payload part a notification gets from an event: `event` and `vir_domain_event`. */
export interface VmEventNames {
  event: 'LIFECYCLE' | 'REBOOT' | 'WATCHDOG' | 'IO_ERROR' | 'IO_ERROR_REASON' | 'CONTROL_ERROR';
  vir_domain_event: string;
}

const LIFECYCLE_SUSPENDED = 3;
const LIFECYCLE_STOPPED = 5;
const LIFECYCLE_SHUTDOWN = 6;

/** lifecycle event → detail → vir_domain_event. Only these (event, detail) pairs are reported. */
const LIFECYCLE_NAMES: Record<number, Record<number, string>> = {
  [LIFECYCLE_SUSPENDED]: { 2: 'SUSPENDED_IOERROR', 3: 'SUSPENDED_WATCHDOG', 6: 'SUSPENDED_API_ERROR' },
  [LIFECYCLE_STOPPED]: { 0: 'STOPPED_SHUTDOWN', 1: 'STOPPED_DESTROYED', 5: 'STOPPED_FAILED' },
  [LIFECYCLE_SHUTDOWN]: { 0: 'SHUTDOWN_FINISHED' },
};

/** Watchdog action → name. INJECTNMI (6) is not in masakari's table, so it is not reported. */
const WATCHDOG_NAMES: Record<number, string> = {
  0: 'WATCHDOG_NONE',
  1: 'WATCHDOG_PAUSE',
  2: 'WATCHDOG_RESET',
  3: 'WATCHDOG_POWEROFF',
  4: 'WATCHDOG_SHUTDOWN',
  5: 'WATCHDOG_DEBUG',
};

/** I/O error action → name. */
const IO_ERROR_NAMES: Record<number, string> = { 0: 'IO_ERROR_NONE', 1: 'IO_ERROR_PAUSE', 2: 'IO_ERROR_REPORT' };

/** The notification names for an event, or null when masakari-instancemonitor would not report it. */
export function vmEventNames(ev: DomainEvent): VmEventNames | null {
  switch (ev.kind) {
    case 'lifecycle': {
      const name = LIFECYCLE_NAMES[ev.event]?.[ev.detail];
      return name ? { event: 'LIFECYCLE', vir_domain_event: name } : null;
    }
    case 'reboot':
      return { event: 'REBOOT', vir_domain_event: 'UNKNOWN' };
    case 'watchdog': {
      const name = WATCHDOG_NAMES[ev.action];
      return name ? { event: 'WATCHDOG', vir_domain_event: name } : null;
    }
    case 'io-error': {
      const name = IO_ERROR_NAMES[ev.action];
      return name ? { event: 'IO_ERROR', vir_domain_event: name } : null;
    }
    case 'io-error-reason':
      return { event: 'IO_ERROR_REASON', vir_domain_event: 'UNKNOWN' };
    case 'control-error':
      return { event: 'CONTROL_ERROR', vir_domain_event: 'UNKNOWN' };
  }
}

/** A short human description of an event for logs, e.g. "lifecycle 5/5". */
export function describeEvent(ev: DomainEvent): string {
  switch (ev.kind) {
    case 'lifecycle':
      return `lifecycle ${ev.event}/${ev.detail}`;
    case 'watchdog':
    case 'io-error':
      return `${ev.kind} action=${ev.action}`;
    case 'io-error-reason':
      return `${ev.kind} action=${ev.action} reason=${ev.reason}`;
    default:
      return ev.kind;
  }
}
