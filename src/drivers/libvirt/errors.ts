// libvirt failures as one typed error. `libvirtCode` and `domain` are libvirt's virErrorNumber / virErrorDomain, so a
// caller can branch on ErrorCode.NO_DOMAIN etc. instead of parsing messages. `code` is AppError's stable string
// (docs/errors.md), the same for every libvirt failure.

import { AppError } from '../../core/errors.ts';
import { errorCodeName } from './constants.ts';
import type { Native, Ptr } from './ffi.ts';

export class LibvirtError extends AppError {
  readonly code = 'LIBVIRT_ERROR';
  /** virErrorNumber (see ErrorCode); -1 when libvirt left no error record (should not happen). */
  readonly libvirtCode: number;
  /** virErrorDomain: which part of libvirt raised it (12 = test driver, 10 = QEMU, 7 = remote ...). */
  readonly domain: number;
  /** The libvirt call that failed, e.g. "virDomainCreate". */
  readonly operation: string;

  constructor(operation: string, code: number, domain: number, message: string) {
    super(`${operation}: ${message}`);
    this.libvirtCode = code;
    this.domain = domain;
    this.operation = operation;
  }

  /** Stable name of the code, e.g. "NO_DOMAIN", for logs. */
  get codeName(): string {
    return errorCodeName(this.libvirtCode);
  }
}

type ErrorRecord = { code: number; domain: number; message: string | null };

function fromRecord(op: string, rec: ErrorRecord | null, fallback: string): LibvirtError {
  if (!rec || rec.code === 0) return new LibvirtError(op, -1, 0, fallback);
  return new LibvirtError(op, rec.code, rec.domain, rec.message ?? fallback);
}

/** The calling thread's last error (for calls made synchronously on the main thread). */
export function lastError(n: Native, op: string): LibvirtError {
  const p = n.fn.virGetLastError() as Ptr | null;
  const rec = p ? (n.koffi.decode(p, n.errorStruct) as ErrorRecord) : null;
  n.fn.virResetLastError();
  return fromRecord(op, rec, 'libvirt reported a failure without details');
}

/**
 * The connection's last error. Used after `.async` calls: they fail on a koffi worker thread whose thread-local
 * error the main thread cannot read, but libvirt also copies every public API error into the connection object.
 * Correct only while one async call at a time runs per connection (connection.ts serialises them).
 */
export function connectionError(n: Native, conn: Ptr, op: string): LibvirtError {
  const p = n.fn.virConnGetLastError(conn) as Ptr | null;
  const rec = p ? (n.koffi.decode(p, n.errorStruct) as ErrorRecord) : null;
  return fromRecord(op, rec, 'libvirt reported a failure without details');
}
