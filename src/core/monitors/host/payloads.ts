// COMPUTE_HOST payloads exactly as masakari-monitors' hostmonitor sends them (masakari-behaviour.md §6).

export type HostStatus = 'NORMAL' | 'UNKNOWN';

export const hostStartedPayload = (): Record<string, string> => ({
  event: 'STARTED',
  cluster_status: 'ONLINE',
  host_status: 'NORMAL',
});

/** host_status NORMAL tells the engine the host is down and safe to evacuate; UNKNOWN makes it ignore the event. */
export const hostStoppedPayload = (hostStatus: HostStatus): Record<string, string> => ({
  event: 'STOPPED',
  cluster_status: 'OFFLINE',
  host_status: hostStatus,
});
