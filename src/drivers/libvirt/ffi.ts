// Raw koffi declarations of the libvirt C API we use. Nothing here owns memory: the classes in connection.ts
// and domain.ts do. Loaded lazily, once per process, so that importing this module on a machine without libvirt
// costs nothing and fails only when libvirt is actually used.
//
// Memory rules measured on this machine (docs/libvirt.md records the measurements):
// - virConnectListAllDomains' array: decode elements one by one (koffi.decode with an offset), virDomainFree each,
//   then free() the array. The koffi.decode(ptr, type, n) form leaks in koffi 3.3.4.
// - Strings libvirt allocates for us (XML, metadata, agent replies, URIs) are declared `void *`, decoded, then
//   free()d; strings libvirt keeps (virDomainGetName) are declared `const char *`.

import koffi, { type LibraryHandle } from 'koffi';
import { AppError, errorMessage } from '../../core/errors.ts';
import { registerHardExit } from '../../core/exit.ts';

export type Ptr = bigint;

/** A koffi function with its `.async` form typed loosely: callers wrap it in promises (see connection.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

export class LibvirtUnavailableError extends AppError {
  readonly code = 'LIBVIRT_UNAVAILABLE';

  constructor(cause: unknown) {
    super(`libvirt client library (libvirt.so.0) cannot be loaded: ${errorMessage(cause)}; install the Debian package libvirt0`);
  }
}

function declare<K extends string>(lib: LibraryHandle, protos: Record<K, string>): Record<K, Fn> {
  const out = {} as Record<K, Fn>;
  for (const name of Object.keys(protos) as K[]) out[name] = lib.func(protos[name]) as Fn;
  return out;
}

function loadNative() {
  const lib = koffi.load('libvirt.so.0');
  const libc = koffi.load('libc.so.6');
  koffi.opaque('virConnect');
  koffi.opaque('virDomain');

  const errorStruct = koffi.struct('virError', {
    code: 'int',
    domain: 'int',
    message: 'char *',
    level: 'int',
    conn: 'void *',
    dom: 'void *',
    str1: 'char *',
    str2: 'char *',
    str3: 'char *',
    int1: 'int',
    int2: 'int',
    net: 'void *',
  });
  const domainInfo = koffi.struct('virDomainInfo', {
    state: 'uchar',
    maxMem: 'ulong',
    memory: 'ulong',
    nrVirtCpu: 'ushort',
    cpuTime: 'ulonglong',
  });
  const nodeInfo = koffi.struct('virNodeInfo', {
    model: koffi.array('char', 32),
    memory: 'ulong',
    cpus: 'uint',
    mhz: 'uint',
    nodes: 'uint',
    sockets: 'uint',
    cores: 'uint',
    threads: 'uint',
  });

  // Callback prototypes, one per libvirt callback signature.
  const protos = {
    lifecycle: koffi.proto('int virConnectDomainEventCallback(virConnect *conn, virDomain *dom, int event, int detail, void *opaque)'),
    generic: koffi.proto('void virConnectDomainEventGenericCallback(virConnect *conn, virDomain *dom, void *opaque)'),
    watchdog: koffi.proto('void virConnectDomainEventWatchdogCallback(virConnect *conn, virDomain *dom, int action, void *opaque)'),
    ioError: koffi.proto(
      'void virConnectDomainEventIOErrorCallback(virConnect *conn, virDomain *dom, const char *srcPath, const char *devAlias, int action, void *opaque)',
    ),
    ioErrorReason: koffi.proto(
      'void virConnectDomainEventIOErrorReasonCallback(virConnect *conn, virDomain *dom, const char *srcPath, const char *devAlias, int action, const char *reason, void *opaque)',
    ),
    close: koffi.proto('void virConnectCloseFunc(virConnect *conn, int reason, void *opaque)'),
    timeout: koffi.proto('void virEventTimeoutCallback(int timer, void *opaque)'),
  };

  const fn = declare(lib, {
    virEventRegisterDefaultImpl: 'int virEventRegisterDefaultImpl(void)',
    virEventRunDefaultImpl: 'int virEventRunDefaultImpl(void)',
    virEventAddTimeout: 'int virEventAddTimeout(int timeout, void *cb, void *opaque, void *ff)',
    virEventRemoveTimeout: 'int virEventRemoveTimeout(int timer)',
    virSetErrorFunc: 'void virSetErrorFunc(void *userData, void *handler)',
    virGetLastError: 'virError *virGetLastError(void)',
    virConnGetLastError: 'virError *virConnGetLastError(virConnect *conn)',
    virResetLastError: 'void virResetLastError(void)',
    virConnResetLastError: 'void virConnResetLastError(virConnect *conn)',
    virGetVersion: 'int virGetVersion(_Out_ ulong *libVer, const char *type, _Out_ ulong *typeVer)',

    virConnectOpen: 'virConnect *virConnectOpen(const char *name)',
    virConnectOpenReadOnly: 'virConnect *virConnectOpenReadOnly(const char *name)',
    virConnectClose: 'int virConnectClose(virConnect *conn)',
    virConnectGetURI: 'void *virConnectGetURI(virConnect *conn)',
    virConnectGetHostname: 'void *virConnectGetHostname(virConnect *conn)',
    virConnectIsAlive: 'int virConnectIsAlive(virConnect *conn)',
    virConnectSetKeepAlive: 'int virConnectSetKeepAlive(virConnect *conn, int interval, uint count)',
    virConnectRegisterCloseCallback: 'int virConnectRegisterCloseCallback(virConnect *conn, void *cb, void *opaque, void *freecb)',
    virConnectUnregisterCloseCallback: 'int virConnectUnregisterCloseCallback(virConnect *conn, void *cb)',
    virNodeGetInfo: 'int virNodeGetInfo(virConnect *conn, _Out_ virNodeInfo *info)',
    virConnectListAllDomains: 'int virConnectListAllDomains(virConnect *conn, _Out_ void **domains, uint flags)',
    virConnectDomainEventRegisterAny:
      'int virConnectDomainEventRegisterAny(virConnect *conn, virDomain *dom, int eventID, void *cb, void *opaque, void *freecb)',
    virConnectDomainEventDeregisterAny: 'int virConnectDomainEventDeregisterAny(virConnect *conn, int callbackID)',

    virDomainLookupByUUIDString: 'virDomain *virDomainLookupByUUIDString(virConnect *conn, const char *uuid)',
    virDomainLookupByName: 'virDomain *virDomainLookupByName(virConnect *conn, const char *name)',
    virDomainDefineXML: 'virDomain *virDomainDefineXML(virConnect *conn, const char *xml)',
    virDomainFree: 'int virDomainFree(virDomain *dom)',
    virDomainGetName: 'const char *virDomainGetName(virDomain *dom)',
    virDomainGetUUIDString: 'int virDomainGetUUIDString(virDomain *dom, void *buf)',
    virDomainGetID: 'uint virDomainGetID(virDomain *dom)',
    virDomainGetState: 'int virDomainGetState(virDomain *dom, _Out_ int *state, _Out_ int *reason, uint flags)',
    virDomainGetInfo: 'int virDomainGetInfo(virDomain *dom, _Out_ virDomainInfo *info)',
    virDomainIsActive: 'int virDomainIsActive(virDomain *dom)',
    virDomainIsPersistent: 'int virDomainIsPersistent(virDomain *dom)',
    virDomainGetXMLDesc: 'void *virDomainGetXMLDesc(virDomain *dom, uint flags)',
    virDomainCreate: 'int virDomainCreate(virDomain *dom)',
    virDomainDestroy: 'int virDomainDestroy(virDomain *dom)',
    virDomainShutdown: 'int virDomainShutdown(virDomain *dom)',
    virDomainUndefineFlags: 'int virDomainUndefineFlags(virDomain *dom, uint flags)',
    virDomainGetMetadata: 'void *virDomainGetMetadata(virDomain *dom, int type, const char *uri, uint flags)',
    virDomainSetMetadata: 'int virDomainSetMetadata(virDomain *dom, int type, const char *metadata, const char *key, const char *uri, uint flags)',
  });
  const c = declare(libc, { free: 'void free(void *ptr)', _exit: 'void _exit(int status)' });
  // From now on a libuv thread may sit in libvirt (the event loop, a call to a frozen daemon): process.exit()
  // would wait for it forever, so the process ends through _exit (src/core/exit.ts).
  registerHardExit((code) => {
    c._exit(code);
  });

  // libvirt-qemu is a separate library (Debian ships it in libvirt0 too); only the agent command needs it.
  let qemuAgentCommand: Fn | null = null;
  try {
    const q = koffi.load('libvirt-qemu.so.0');
    qemuAgentCommand = q.func('void *virDomainQemuAgentCommand(virDomain *dom, const char *cmd, int timeout, uint flags)') as Fn;
  } catch {
    qemuAgentCommand = null;
  }

  // Must happen once, before any connection is opened, or events and keepalive never work on those connections.
  if (fn.virEventRegisterDefaultImpl() < 0) throw new Error('virEventRegisterDefaultImpl failed');
  // Silence libvirt's default "print every error to stderr". The handler must be a NATIVE function: errors are
  // raised on libvirt's and koffi's worker threads too, and a JS handler there would block that thread until the
  // main thread runs it, a deadlock when the main thread waits on a lock that thread holds. virResetError(NULL)
  // is a no-op with the virErrorFunc shape (void *userData, virErrorPtr): userData is NULL, so it returns at once.
  fn.virSetErrorFunc(null, lib.symbol('virResetError'));

  // A native function with the shape of virEventTimeoutCallback (int timer, void *opaque): virEventRemoveTimeout
  // takes the timer and ignores the extra argument (x86-64 and AArch64 calling conventions). The event loop's wake-up
  // timer fires it on libvirt's thread without waiting for the JS main thread (event-loop.ts says why that matters).
  const removeTimeoutCallback: unknown = lib.symbol('virEventRemoveTimeout');

  return { koffi, fn, free: c.free, qemuAgentCommand, errorStruct, domainInfo, nodeInfo, protos, removeTimeoutCallback };
}

export type Native = ReturnType<typeof loadNative>;
let native: Native | null = null;
let loadError: LibvirtUnavailableError | null = null;

/** The loaded bindings. Throws LibvirtUnavailableError (with the reason) when libvirt.so.0 is missing. */
export function libvirtNative(): Native {
  if (native) return native;
  if (loadError) throw loadError;
  try {
    native = loadNative();
    return native;
  } catch (e) {
    loadError = new LibvirtUnavailableError(e);
    throw loadError;
  }
}

/** True when the libvirt client library can be loaded here (tests use it with requireComponent). */
export function libvirtAvailable(): boolean {
  try {
    libvirtNative();
    return true;
  } catch {
    return false;
  }
}

/** Copies a C string libvirt allocated for us, then frees it. Returns null for NULL. */
export function takeString(n: Native, p: Ptr | null): string | null {
  if (p === null || p === 0n) return null;
  try {
    return n.koffi.decode.string(p);
  } finally {
    n.free(p);
  }
}
