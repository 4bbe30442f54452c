// Drives libvirt's default event implementation (virEventRunDefaultImpl) without blocking Node.
//
// Why this way: of the three ways measured on this machine (docs/libvirt.md, "Event loop"), calling
// virEventRunDefaultImpl through koffi's `.async` in a loop has the lowest latency (median 0.04 ms from a QEMU
// death to our callback) and almost no idle CPU (~0.5 ms/s), against ~10 ms latency and 16 ms/s CPU for polling
// with setInterval, and ~10 MiB and a second koffi/connection for a worker_thread. libvirt runs the loop on one
// koffi worker thread; when it fires a callback, koffi queues the call to the JS main thread and the loop thread
// waits for it, so every callback runs on the main thread like any other JS event.
// Costs, accepted: it holds one libuv thread-pool thread while any connection is open (UV_THREADPOOL_SIZE default
// 4), and a long *synchronous* libvirt call on the main thread delays event delivery until it returns, which is
// why slow calls (start, destroy, shutdown, agent commands) go through `.async` in connection.ts / domain.ts.
//
// The loop runs while at least one LibvirtConnection is open (acquire/release), so a process that closes its
// connections can exit. To stop, we add a 0 ms libvirt timeout: it wakes the loop thread out of poll(), the
// iteration returns, and the loop sees nobody needs it. The timeout's callback is a native function
// (virEventRemoveTimeout, see ffi.ts), not JS: a JS callback parks libvirt's thread until the main thread runs it,
// so a wake-up issued just before the main thread stops running JS (process exit) would leave that thread parked.
// releaseEventLoop() resolves once the loop thread has come back from libvirt, so a shutdown can wait for it.

import { libvirtNative } from './ffi.ts';

let users = 0;
let running = false;
let lastFailure: unknown = null;
/** Resolved at the next return of the loop thread from virEventRunDefaultImpl (see releaseEventLoop). */
let returnWaiters: Array<() => void> = [];

function iterate(n: ReturnType<typeof libvirtNative>): void {
  const waiters = returnWaiters;
  returnWaiters = [];
  for (const w of waiters) w();
  if (users === 0) {
    running = false;
    return;
  }
  n.fn.virEventRunDefaultImpl.async((err: unknown, rc: number) => {
    if (err || rc < 0) {
      // Never seen in practice; back off so a broken loop cannot spin a core.
      lastFailure = err ?? new Error('virEventRunDefaultImpl returned -1');
      setTimeout(() => iterate(n), 100);
      return;
    }
    iterate(n);
  });
}

/** A connection needs events: make sure the loop runs. */
export function acquireEventLoop(): void {
  const n = libvirtNative();
  users++;
  if (!running) {
    running = true;
    iterate(n);
  }
}

/**
 * A connection closed: stop the loop when it was the last one. Resolves when the loop thread is out of libvirt
 * (when it was the last user) or at once (the loop is still needed by another connection).
 */
export function releaseEventLoop(): Promise<void> {
  if (users === 0) return Promise.resolve();
  users--;
  if (users > 0 || !running) return Promise.resolve();
  const back = new Promise<void>((resolve) => returnWaiters.push(resolve));
  wakeEventLoop();
  return back;
}

/** Interrupts the loop's current poll() so that it re-reads its state (used to stop it). */
export function wakeEventLoop(): void {
  const n = libvirtNative();
  n.fn.virEventAddTimeout(0, n.removeTimeoutCallback, null, null);
}

/** For diagnostics and tests. */
export function eventLoopState(): { users: number; running: boolean; lastFailure: unknown } {
  return { users, running, lastFailure };
}
