import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskDeep } from './mask.ts';

export type { Logger };

/**
 * One logger per process; children carry a `component` field. Logs go to stderr so stdout stays for command output
 * (`destination` replaces stderr for the json format: tests read the lines).
 */
export function createLogger(level: string, format: 'json' | 'pretty' = 'json', destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    // No URL is logged with its password (database.url, a Keystone auth_url, a libvirt URI, a Redfish url...),
    // whichever code logs it: the message, every field, an error's message and stack (src/core/mask.ts).
    hooks: {
      logMethod(args, method) {
        method.apply(this, maskDeep<Parameters<typeof method>>(args));
      },
    },
  };
  if (format === 'pretty') {
    // Minimal human format without pino-pretty (a worker-thread transport does not bundle into one executable).
    return withUniqueBindings(
      pino(options, {
        write(line: string) {
          const o = JSON.parse(line) as { time?: string; level?: number; msg?: string; component?: string; [key: string]: unknown };
          const { time, level: lv, msg, component, ...rest } = o;
          const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
          process.stderr.write(`${time} ${pino.levels.labels[lv as number] ?? lv} ${component ? `[${component}] ` : ''}${msg ?? ''}${extra}\n`);
        },
      }),
    );
  }
  if (destination) return withUniqueBindings(pino(options, destination));
  // Synchronous: an asynchronous destination writes through libuv's threadpool, which calls to a frozen libvirtd
  // can fill (docs/libvirt.md); the log would then stall exactly when it is needed, and lines still queued when the
  // process ends (src/core/exit.ts does not wait for that threadpool) would be lost.
  const dest = pino.destination({ fd: 2, sync: true });
  // A log line that cannot be written (stderr a closed pipe: `masakari ... | tee` ended) is lost, never fatal: an
  // unhandled 'error' here used to kill the process in the middle of a shutdown.
  dest.on('error', () => undefined);
  return withUniqueBindings(pino(options, dest));
}

/**
 * pino appends a child's bindings to its parent's as they are, so a child that names a key its parent already named
 * writes it twice: the Nova driver's logger is the roles' child {component: nova}, and the OpenStack client makes
 * its own child {component: openstack} of it, giving "component":"nova","component":"openstack". Log collectors keep
 * one of them or reject the line. Here every child created from this logger (and from its children, which inherit
 * `child` through the prototype) leaves out the keys already bound: the outer name stays, as the caller chose it
 * (the component that owns the client, nova or keystone, says more than the client's own "openstack").
 */
function withUniqueBindings(root: Logger): Logger {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with .call(this): each child logger is its own `this`
  const pinoChild = root.child;
  root.child = function child(this: Logger, bindings, options) {
    const bound = this.bindings();
    const fresh = maskDeep(Object.fromEntries(Object.entries(bindings).filter(([k]) => !(k in bound))));
    return pinoChild.call(this, fresh, options);
  } as Logger['child'];
  return root;
}

const brokenStdioTolerated = new WeakSet<NodeJS.WriteStream>();

/**
 * Output that cannot be written is dropped instead of ending the process: stdout or stderr may be a pipe whose reader
 * is gone (EPIPE). Called by the long-running roles, whose shutdown must finish whatever happened to the terminal.
 */
export function tolerateBrokenStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (!brokenStdioTolerated.has(stream)) stream.on('error', () => undefined);
    brokenStdioTolerated.add(stream);
  }
}

/** A logger that drops everything (tests, the simulator). */
export const silentLogger: Logger = pino({ level: 'silent' });
