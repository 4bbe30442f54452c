// systemd's notification protocol (sd_notify(3)) for `Type=notify` units: one datagram per message ("READY=1",
// "WATCHDOG=1", "STOPPING=1", "STATUS=...") sent to the AF_UNIX socket named by $NOTIFY_SOCKET. Node has no unix
// datagram sockets, so the three libc calls go through koffi (already loaded by the libvirt bindings); that also
// avoids a dependency on libsystemd. With $NOTIFY_SOCKET unset (not started by systemd) nothing is loaded and every
// call is a no-op.
//
// Sends never block the event loop (MSG_DONTWAIT): with systemd's receive queue full the message is dropped and
// the reason returned; a lost WATCHDOG=1 is followed by the next one. Errors are returned, never thrown: a
// notification problem must not stop a role.

import { AppError, errorMessage } from '../../core/errors.ts';

/** $NOTIFY_SOCKET is unusable (malformed, too long) or the socket cannot be created. */
export class SystemdNotifyError extends AppError {
  readonly code = 'SYSTEMD_NOTIFY_UNAVAILABLE';
}

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
/** sizeof(struct sockaddr_un.sun_path) on Linux. */
const SUN_PATH_MAX = 108;

export interface Notifier {
  /** False when $NOTIFY_SOCKET was unset: every send is a no-op. */
  readonly enabled: boolean;
  /** Sends one message (several `KEY=value` lines); returns null, or the reason it could not be sent. */
  send(message: string): string | null;
  close(): void;
}

const disabled: Notifier = { enabled: false, send: () => null, close: () => undefined };

/**
 * The address systemd gives: a filesystem path, or an abstract socket written with a leading '@'. Returns the
 * sockaddr_un bytes and their length, or throws naming what is wrong.
 */
export function socketAddress(notifySocket: string): Buffer {
  const abstract = notifySocket.startsWith('@');
  if (!abstract && !notifySocket.startsWith('/'))
    throw new SystemdNotifyError(`NOTIFY_SOCKET=${notifySocket} is neither an absolute path nor an abstract name (@...)`);
  const path = Buffer.from(abstract ? notifySocket.slice(1) : notifySocket, 'utf8');
  // A path needs room for its terminating NUL, an abstract name for its leading NUL.
  if (path.length + 1 > SUN_PATH_MAX) throw new SystemdNotifyError(`NOTIFY_SOCKET is longer than ${SUN_PATH_MAX - 1} bytes`);
  const addr = Buffer.alloc(2 + (abstract ? 1 : 0) + path.length + (abstract ? 0 : 1));
  addr.writeUInt16LE(AF_UNIX, 0); // sa_family_t, host byte order (little-endian on every Linux target we build for)
  path.copy(addr, abstract ? 3 : 2); // abstract: sun_path[0] stays 0
  return addr;
}

/**
 * Opens the notification socket named by env.NOTIFY_SOCKET. Removes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID
 * from `env` (as sd_notify's unset_environment does), so the commands masakari runs (fence agents, process restart
 * commands) do not inherit them and cannot speak for the service.
 */
export async function openNotifier(env: NodeJS.ProcessEnv = process.env): Promise<Notifier> {
  const target = env.NOTIFY_SOCKET;
  delete env.NOTIFY_SOCKET;
  if (!target) return disabled;
  const addr = socketAddress(target);
  // Loaded only here: a role not started by systemd never needs the addon.
  const { default: koffi } = await import('koffi');
  const libc = koffi.load(null);
  const socket = libc.func('int socket(int domain, int type, int protocol)') as (d: number, t: number, p: number) => number;
  const sendto = libc.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)') as (
    fd: number,
    buf: Buffer,
    len: number,
    flags: number,
    addr: Buffer,
    addrlen: number,
  ) => number | bigint;
  const close = libc.func('int close(int fd)') as (fd: number) => number;
  const strerror = libc.func('const char *strerror(int errnum)') as (e: number) => string;
  const fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SystemdNotifyError(`cannot create the systemd notification socket: ${strerror(koffi.errno())}`);
  let open = true;
  return {
    enabled: true,
    send(message) {
      if (!open) return 'notification socket closed';
      const buf = Buffer.from(message, 'utf8');
      try {
        const n = Number(sendto(fd, buf, buf.length, MSG_DONTWAIT | MSG_NOSIGNAL, addr, addr.length));
        return n === buf.length ? null : `sendto ${target}: ${n < 0 ? strerror(koffi.errno()) : `short write (${n} of ${buf.length} bytes)`}`;
      } catch (e) {
        return `sendto ${target}: ${errorMessage(e)}`;
      }
    },
    close() {
      if (open) close(fd);
      open = false;
    },
  };
}
