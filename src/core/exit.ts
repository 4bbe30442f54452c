// How a masakari process ends. process.exit() runs Node's exit handler, which joins every libuv threadpool thread
// (uv_library_shutdown) before the process goes: a thread still inside a native call never lets it finish. libvirt
// keeps one there on purpose (its event loop, waiting in poll(); docs/libvirt.md), and a call to a frozen libvirtd
// holds another. That join was the "Ctrl-C hangs the lab" of issue 16: the role had stopped, process.exit(0) waited
// for the event-loop thread, and that thread waited for the main thread to run libvirt's close callback.
//
// So a native layer that can leave a thread blocked registers an exit that does not wait (libc's _exit, through
// the FFI it has loaded anyway), and exitProcess() uses it. Before it, what is buffered is written out: the
// registered flushers (the logger's), stdout and stderr being synchronous for files, pipes and terminals on Linux.
// Without such a layer (no libvirt in this process) exitProcess is plain process.exit.
//
// No imports on purpose: drivers and the CLI both use this module, and loading it must cost nothing.

type HardExit = (code: number) => void;

let hardExit: HardExit | null = null;
const flushers = new Set<() => void>();

/** Called by a native layer once it is loaded (src/drivers/libvirt/ffi.ts): how to exit without joining threads. */
export function registerHardExit(fn: HardExit): void {
  hardExit ??= fn;
}

/** Something holding output in memory (an asynchronous log destination) that must be written before the end. */
export function registerExitFlush(fn: () => void): () => void {
  flushers.add(fn);
  return () => flushers.delete(fn);
}

/** True when the process ends through a registered native exit (tests, diagnostics). */
export function hasHardExit(): boolean {
  return hardExit !== null;
}

/** Writes out what is buffered (never throws: a closed stderr must not stop the exit). */
export function flushBeforeExit(): void {
  for (const f of flushers) {
    try {
      f();
    } catch {
      // Nowhere to report it: the destination itself is what failed (EPIPE on a closed pipe).
    }
  }
}

/** Ends the process with `code`, without waiting for threads stuck in native code. */
export function exitProcess(code: number): never {
  flushBeforeExit();
  if (hardExit) hardExit(code);
  process.exit(code);
}
