// Serialized GET responses, valid while the store's change stamp is unchanged (resources/common.ts cachedReply).
// Bounded by entry count and by bytes; least recently used entries go first. A stamp mismatch is a miss (and the
// entry is replaced by the caller's fresh body), so a write anywhere invalidates everything at once.

export interface ResponseCacheLimits {
  maxEntries: number;
  maxBytes: number;
  /** Bodies larger than this are never cached (a huge list would evict everything else). */
  maxEntryBytes: number;
}

export const DEFAULT_RESPONSE_CACHE_LIMITS: ResponseCacheLimits = { maxEntries: 512, maxBytes: 32 * 1024 * 1024, maxEntryBytes: 1024 * 1024 };

interface Entry {
  stamp: string;
  body: Uint8Array;
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly limits: ResponseCacheLimits = DEFAULT_RESPONSE_CACHE_LIMITS) {}

  get(key: string, stamp: string): Uint8Array | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.stamp !== stamp) {
      this.drop(key, e);
      return undefined;
    }
    // Re-insert: Map keeps insertion order, so the first key is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.body;
  }

  set(key: string, stamp: string, body: Uint8Array): void {
    if (this.limits.maxEntries <= 0 || body.byteLength > this.limits.maxEntryBytes) return;
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    this.entries.set(key, { stamp, body });
    this.bytes += body.byteLength;
    while (this.entries.size > this.limits.maxEntries || this.bytes > this.limits.maxBytes) {
      const [k, e] = this.entries.entries().next().value as [string, Entry];
      this.drop(k, e);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= e.body.byteLength;
  }
}
