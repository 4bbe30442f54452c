// How a masakari process ends. process.exit() runs Node's exit handler, which joins every libuv threadpool thread
// (uv_library_shutdown) before the process goes: a thread still inside a native call never lets it finish. libvirt
// keeps one there on purpose (its event loop, waiting in poll(); docs/libvirt.md), and a call to a frozen libvirtd
// holds another. That join was the "Ctrl-C hangs the lab" of issue 16: the role had stopped, process.exit(0) waited
// for the event-loop thread, and that thread waited for the main thread to run libvirt's close callback.
//
// So a native layer that can leave a thread blocked registers an exit that does not wait (libc's _exit, through
// the FFI it has loaded anyway), and exitProcess() uses it. Nothing output is lost by it: the logger writes
// synchronously (src/core/log.ts), and stdout and stderr are synchronous for files, pipes and terminals on Linux.
// Without such a layer (no libvirt in this process) exitProcess is plain process.exit.
//
// No imports on purpose: drivers and the CLI both use this module, and loading it must cost nothing.

type HardExit = (code: number) => void;

let hardExit: HardExit | null = null;

/** Called by a native layer once it is loaded (src/drivers/libvirt/ffi.ts): how to exit without joining threads. */
export function registerHardExit(fn: HardExit): void {
  hardExit ??= fn;
}

/** Ends the process with `code`, without waiting for threads stuck in native code. */
export function exitProcess(code: number): never {
  if (hardExit) hardExit(code);
  process.exit(code);
}
