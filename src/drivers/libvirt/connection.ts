// One connection to a libvirt driver (test:///default, qemu:///system, qemu+unix:///system?socket=...).
// It owns the virConnect pointer, its event subscriptions and its close callback, and keeps the shared event loop
// running while it is open. Reconnecting is not done here but in resilient.ts, on top.

import { closeReasonName, ErrorCode, ListFlags } from './constants.ts';
import { Domain, type DomainOwner } from './domain.ts';
import { connectionError, lastError, LibvirtError } from './errors.ts';
import { allocHandler, eventIdOf, freeHandler, type DomainEventKind, type EventOf } from './events.ts';
import { acquireEventLoop, releaseEventLoop } from './event-loop.ts';
import { libvirtNative, takeString, type Native, type Ptr } from './ffi.ts';

export interface OpenOptions {
  /** virConnectOpenReadOnly: enough for listing and events; not for start/stop, metadata writes or agent commands. */
  readOnly?: boolean;
}

export interface Subscription {
  /** Stops delivery. Safe to call twice, and after the connection closed or died. */
  cancel(): void;
}

export type DomainListFilter = 'all' | 'active' | 'inactive';

/** virNodeInfo: the host's CPUs and memory as libvirt reports them. */
export interface NodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
}

export interface DomainSummary {
  uuid: string;
  name: string;
  /** The hypervisor's run-time id; null when not running. */
  id: number | null;
}

type CloseListener = (reason: string) => void;
const closeListeners = new Map<number, CloseListener>();
let nextCloseSlot = 1;
let closeTrampoline: bigint | null = null;

function closeCallback(n: Native): bigint {
  // One permanent trampoline for every connection (see events.ts for why trampolines are never unregistered).
  closeTrampoline ??= n.koffi.register((_conn: Ptr, reason: number, opaque: Ptr | null) => {
    const l = opaque === null ? undefined : closeListeners.get(Number(opaque));
    l?.(closeReasonName(reason));
  }, n.koffi.pointer(n.protos.close));
  return closeTrampoline;
}

/** Native teardowns of closed connections still running on worker threads (see closeAsync). */
const teardowns = new Set<Promise<void>>();

/** Resolves when every connection closed so far has been released by libvirt (shutdown paths, tests). */
export async function closesSettled(): Promise<void> {
  while (teardowns.size) await Promise.all([...teardowns]);
}

function isFailure(p: Ptr | null): boolean {
  return p === null || p === 0n;
}

export class LibvirtConnection implements DomainOwner {
  readonly native: Native;
  readonly uri: string;
  readonly readOnly: boolean;
  private ptr: Ptr | null;
  private readonly subs = new Map<number, { slot: number; kind: DomainEventKind }>();
  private readonly onCloseListeners = new Set<(reason: string) => void>();
  private closeSlot: number | null = null;
  private lostReason: string | null = null;
  /** Tail of the per-connection async queue (see errors.ts connectionError for why it is serial). */
  private asyncTail: Promise<unknown> = Promise.resolve();
  /** Set by closeAsync(): resolves when the native connection is closed. */
  private closing: Promise<void> | null = null;

  private constructor(n: Native, uri: string, readOnly: boolean, ptr: Ptr) {
    this.native = n;
    this.uri = uri;
    this.readOnly = readOnly;
    this.ptr = ptr;
    acquireEventLoop();
    this.registerCloseCallback();
  }

  /** Opens synchronously (fine for local drivers and tests; a frozen daemon would block Node: see openAsync). */
  static open(uri: string, opts: OpenOptions = {}): LibvirtConnection {
    const n = libvirtNative();
    const fn = opts.readOnly ? n.fn.virConnectOpenReadOnly : n.fn.virConnectOpen;
    const p = fn(uri) as Ptr | null;
    if (isFailure(p)) throw lastError(n, opts.readOnly ? 'virConnectOpenReadOnly' : 'virConnectOpen');
    return new LibvirtConnection(n, uri, !!opts.readOnly, p!);
  }

  /**
   * Opens on a worker thread, so that a daemon that accepts the socket but never answers cannot stall Node.
   * The worker's error record is thread-local and lost; when the async open failed (fast), one synchronous
   * attempt recovers libvirt's own message (it fails as fast; if the daemon just came up, it simply succeeds).
   */
  static async openAsync(uri: string, opts: OpenOptions = {}): Promise<LibvirtConnection> {
    const n = libvirtNative();
    const fn = opts.readOnly ? n.fn.virConnectOpenReadOnly : n.fn.virConnectOpen;
    const p = await new Promise<Ptr | null>((resolve, reject) => fn.async(uri, (err: Error | null, r: Ptr | null) => (err ? reject(err) : resolve(r))));
    if (!isFailure(p)) return new LibvirtConnection(n, uri, !!opts.readOnly, p!);
    return LibvirtConnection.open(uri, opts);
  }

  private get p(): Ptr {
    if (this.ptr === null) throw new LibvirtError('LibvirtConnection', ErrorCode.INVALID_CONN, 0, `connection to ${this.uri} is closed`);
    return this.ptr;
  }

  get closed(): boolean {
    return this.ptr === null;
  }

  /** Why libvirt dropped the connection (EOF, KEEPALIVE, ERROR), or null while it is fine. */
  get lost(): string | null {
    return this.lostReason;
  }

  private registerCloseCallback(): void {
    const n = this.native;
    const slot = nextCloseSlot++;
    closeListeners.set(slot, (reason) => {
      this.lostReason = reason;
      for (const l of [...this.onCloseListeners]) l(reason);
    });
    if (n.fn.virConnectRegisterCloseCallback(this.p, closeCallback(n), BigInt(slot), null) < 0) {
      // Drivers that live in this process (test:///) cannot lose their daemon and do not support it.
      n.fn.virResetLastError();
      closeListeners.delete(slot);
      return;
    }
    this.closeSlot = slot;
  }

  /** Called once if libvirt closes the connection behind our back (daemon died, keepalive timeout). */
  onClose(listener: (reason: string) => void): Subscription {
    this.onCloseListeners.add(listener);
    return { cancel: () => this.onCloseListeners.delete(listener) };
  }

  /**
   * Enables libvirt keepalive: after `count` unanswered probes sent every `intervalSec`, libvirt closes the
   * connection (reason KEEPALIVE), which is how a frozen (not dead) daemon is noticed. Returns false when the
   * driver has no keepalive (local drivers).
   */
  setKeepAlive(intervalSec: number, count: number): boolean {
    const r = this.native.fn.virConnectSetKeepAlive(this.p, intervalSec, count) as number;
    if (r < 0) throw lastError(this.native, 'virConnectSetKeepAlive');
    return r === 0;
  }

  isAlive(): boolean {
    return this.ptr !== null && this.native.fn.virConnectIsAlive(this.ptr) === 1;
  }

  /** The URI libvirt resolved (e.g. qemu:///system for qemu+unix:///system?socket=...). */
  resolvedUri(): string {
    const s = takeString(this.native, this.native.fn.virConnectGetURI(this.p) as Ptr | null);
    if (s === null) throw lastError(this.native, 'virConnectGetURI');
    return s;
  }

  hostname(): string {
    const s = takeString(this.native, this.native.fn.virConnectGetHostname(this.p) as Ptr | null);
    if (s === null) throw lastError(this.native, 'virConnectGetHostname');
    return s;
  }

  /** libvirt's version as major*1e6 + minor*1e3 + micro. */
  libVersion(): number {
    const lib = [0];
    if (this.native.fn.virGetVersion(lib, null, [0]) < 0) throw lastError(this.native, 'virGetVersion');
    return Number(lib[0]);
  }

  private static flagsOf(filter: DomainListFilter): number {
    return filter === 'active' ? ListFlags.ACTIVE : filter === 'inactive' ? ListFlags.INACTIVE : 0;
  }

  /** Walks the array virConnectListAllDomains returned: wraps or frees each element, then frees the array. */
  private takeDomainArray(arr: Ptr | null, count: number, keep: boolean): Domain[] {
    const n = this.native;
    const out: Domain[] = [];
    if (arr === null) return out;
    try {
      for (let i = 0; i < count; i++) {
        const d = n.koffi.decode(arr, i * 8, 'virDomain *') as Ptr;
        if (keep) out.push(new Domain(this, d));
        else n.fn.virDomainFree(d);
      }
    } finally {
      n.free(arr);
    }
    return out;
  }

  /** Every domain (or the active/inactive ones). The caller owns the handles: free() each. */
  listDomains(filter: DomainListFilter = 'all'): Domain[] {
    const out: [Ptr | null] = [null];
    const count = this.native.fn.virConnectListAllDomains(this.p, out, LibvirtConnection.flagsOf(filter)) as number;
    if (count < 0) throw lastError(this.native, 'virConnectListAllDomains');
    return this.takeDomainArray(out[0], count, true);
  }

  /** Like listDomains, on a worker thread. */
  async listDomainsAsync(filter: DomainListFilter = 'all'): Promise<Domain[]> {
    const out: [Ptr | null] = [null];
    const count = await this.callAsync<number>(
      'virConnectListAllDomains',
      this.native.fn.virConnectListAllDomains,
      [this.p, out, LibvirtConnection.flagsOf(filter)],
      (r) => r < 0,
    );
    return this.takeDomainArray(out[0], count, true);
  }

  /** The host's node info (virNodeGetInfo), on a worker thread. */
  async nodeInfoAsync(): Promise<NodeInfo> {
    const out: Record<string, unknown> = {};
    await this.callAsync<number>('virNodeGetInfo', this.native.fn.virNodeGetInfo, [this.p, out], (r) => r < 0);
    const model = out.model;
    return {
      model:
        typeof model === 'string' ? model.replace(/\0.*$/s, '') : Array.isArray(model) ? String.fromCharCode(...(model as number[]).filter((c) => c > 0)) : '',
      memoryKiB: Number(out.memory),
      cpus: Number(out.cpus),
      mhz: Number(out.mhz),
    };
  }

  /** Names, UUIDs and ids, with every handle freed: the convenient form when nothing else is needed. */
  listDomainSummaries(filter: DomainListFilter = 'all'): DomainSummary[] {
    return this.listDomains(filter).map((d) => {
      try {
        return { uuid: d.uuid(), name: d.name(), id: d.id() };
      } finally {
        d.free();
      }
    });
  }

  /** The domain with this UUID, or null when there is none. */
  lookupByUUID(uuid: string): Domain | null {
    return this.lookup('virDomainLookupByUUIDString', this.native.fn.virDomainLookupByUUIDString, uuid);
  }

  /** The domain with this name, or null when there is none. */
  lookupByName(name: string): Domain | null {
    return this.lookup('virDomainLookupByName', this.native.fn.virDomainLookupByName, name);
  }

  /** Same as lookupByUUID, on a worker thread (a frozen remote daemon cannot stall Node). */
  async lookupByUUIDAsync(uuid: string): Promise<Domain | null> {
    try {
      const p = await this.callAsync<Ptr | null>('virDomainLookupByUUIDString', this.native.fn.virDomainLookupByUUIDString, [this.p, uuid], isFailure);
      return new Domain(this, p!);
    } catch (e) {
      if (e instanceof LibvirtError && e.libvirtCode === ErrorCode.NO_DOMAIN) return null;
      throw e;
    }
  }

  /** Same as defineXML, on a worker thread. */
  async defineXMLAsync(xml: string): Promise<Domain> {
    const p = await this.callAsync<Ptr | null>('virDomainDefineXML', this.native.fn.virDomainDefineXML, [this.p, xml], isFailure);
    return new Domain(this, p!);
  }

  private lookup(op: string, fn: Native['fn'][keyof Native['fn']], key: string): Domain | null {
    const p = fn(this.p, key) as Ptr | null;
    if (!isFailure(p)) return new Domain(this, p!);
    const err = lastError(this.native, op);
    if (err.libvirtCode === ErrorCode.NO_DOMAIN) return null;
    throw err;
  }

  /** Defines (or redefines, same UUID) a persistent domain from XML. Does not start it. */
  defineXML(xml: string): Domain {
    const p = this.native.fn.virDomainDefineXML(this.p, xml) as Ptr | null;
    if (isFailure(p)) throw lastError(this.native, 'virDomainDefineXML');
    return new Domain(this, p!);
  }

  /**
   * Subscribes to one kind of domain event for every domain on this connection. The handler runs on the main
   * thread. Delivery needs nothing else: the event loop runs while the connection is open.
   */
  onDomainEvent<K extends DomainEventKind>(kind: K, handler: (ev: EventOf<K>) => void): Subscription {
    const n = this.native;
    const { cb, slot } = allocHandler(n, kind, handler as (ev: unknown) => void);
    const id = n.fn.virConnectDomainEventRegisterAny(this.p, null, eventIdOf[kind], cb, BigInt(slot), null) as number;
    if (id < 0) {
      freeHandler(slot);
      throw lastError(n, 'virConnectDomainEventRegisterAny');
    }
    this.subs.set(id, { slot, kind });
    return { cancel: () => this.deregister(id, 'now') };
  }

  /**
   * Ends a subscription. `now` (a cancelled subscription): the native deregistration runs at once, on this thread,
   * because libvirt refuses a second registration of the same callback (one trampoline per kind) until the first is
   * gone, and a caller may subscribe again right away. `queued` (closeAsync): on a worker thread behind the calls
   * already queued, because deregistering is an RPC, and to a frozen daemon it never returns: on the main thread it
   * held every stop (issue 16). Either way the JS handler is dropped first, so an event still in flight is ignored.
   * After the daemon went away libvirt answers -1: nothing is registered any more, which is what we want.
   */
  private deregister(callbackId: number, mode: 'now' | 'queued'): void {
    const sub = this.subs.get(callbackId);
    if (!sub) return;
    this.subs.delete(callbackId);
    freeHandler(sub.slot);
    if (this.ptr === null) return;
    const fn = this.native.fn.virConnectDomainEventDeregisterAny;
    if (mode === 'now') {
      if (fn(this.ptr, callbackId) < 0) this.native.fn.virResetLastError();
      return;
    }
    // The worker's error record is its own and nobody reads it.
    const conn = this.ptr;
    const run = () => new Promise<void>((resolve) => fn.async(conn, callbackId, () => resolve()));
    this.asyncTail = this.asyncTail.then(run, run);
  }

  /** How many event subscriptions are live on this connection. */
  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** Drops every subscription and the close callback, closes the connection. Safe to call twice. */
  close(): void {
    void this.closeAsync();
  }

  /**
   * close(), resolving once libvirt has let go of the connection (and, for the last open connection, once libvirt's
   * event-loop thread has returned: see event-loop.ts). The JS side (handlers, listeners, `closed`) is
   * torn down at once; the native calls run on a worker thread, after the async calls already queued.
   *
   * Why not on the main thread: when the daemon dies, libvirt's event-loop thread calls our close callback while
   * holding the connection's close-callback lock, and koffi parks that thread until Node's main thread has run
   * the JS callback. virConnectUnregisterCloseCallback on the main thread waits for the same lock: a deadlock
   * (seen as a hung evacuation test). On a worker, the main thread stays free to run the pending callback.
   */
  closeAsync(): Promise<void> {
    if (this.ptr === null) return this.closing ?? Promise.resolve();
    for (const id of [...this.subs.keys()]) this.deregister(id, 'queued');
    const n = this.native;
    const slot = this.closeSlot;
    this.closeSlot = null;
    this.onCloseListeners.clear();
    const p = this.ptr;
    this.ptr = null;
    const onWorker = (fn: Native['fn'][keyof Native['fn']], ...args: unknown[]) => new Promise<void>((resolve) => fn.async(...args, () => resolve()));
    const teardown = async () => {
      try {
        if (slot !== null) await onWorker(n.fn.virConnectUnregisterCloseCallback, p, closeCallback(n));
        await onWorker(n.fn.virConnectClose, p);
      } finally {
        if (slot !== null) closeListeners.delete(slot);
        // The last connection's close also waits for the event-loop thread to leave libvirt: after closeAsync()
        // of every connection, no libvirt thread is left that could call into JS (a clean exit needs that).
        await releaseEventLoop();
      }
    };
    const closing = this.asyncTail.then(teardown, teardown);
    teardowns.add(closing);
    void closing.finally(() => teardowns.delete(closing));
    this.closing = closing;
    return closing;
  }

  // --- DomainOwner -------------------------------------------------------------------------------------------

  callAsync<T>(op: string, fn: Native['fn'][keyof Native['fn']], args: unknown[], failed: (r: T) => boolean): Promise<T> {
    const conn = this.p;
    const n = this.native;
    const run = () =>
      new Promise<T>((resolve, reject) => {
        n.fn.virConnResetLastError(conn);
        fn.async(...args, (err: Error | null, r: T) => {
          if (err) return reject(err);
          if (failed(r)) return reject(connectionError(n, conn, op));
          resolve(r);
        });
      });
    // close() queues behind this tail too, so no worker ever sees a freed connection.
    const result = this.asyncTail.then(run, run);
    this.asyncTail = result.catch(() => undefined);
    return result;
  }

  callAgentAsync(op: string, args: unknown[]): Promise<Ptr | null> {
    const agent = this.native.qemuAgentCommand;
    if (!agent) {
      return Promise.reject(new LibvirtError(op, ErrorCode.NO_SUPPORT, 0, 'libvirt-qemu.so.0 is not available (install libvirt0)'));
    }
    return this.callAsync<Ptr | null>(op, agent, args, isFailure);
  }
}
