// Microsecond timestamps on top of JS Dates.
// Masakari prints and compares times with microseconds ("2026-11-22T02:17:33.487258"), but a JS Date only holds
// milliseconds. A Date made here (a MicroDate, a Date subclass) also carries the sub-millisecond part (0..999 µs) in
// a private field, so the domain keeps using plain Dates while the store and the API keep the full precision. A
// plain Date simply has 0 extra microseconds. Treat these Dates as immutable: setTime() does not clear the extra µs.
// (A subclass rather than a property added to a Date: the store makes several per row, and this is much cheaper.)

class MicroDate extends Date {
  readonly #subMs: number;
  constructor(ms: number, subMs: number) {
    super(ms);
    this.#subMs = subMs;
  }
  static subMsOf(d: Date): number {
    return #subMs in d ? d.#subMs : 0;
  }
}

/** Microseconds since the epoch (integer), including the sub-millisecond part. */
export function microsOf(d: Date): number {
  return d.getTime() * 1000 + MicroDate.subMsOf(d);
}

/** A Date for an integer count of microseconds since the epoch; keeps the microseconds. */
export function dateFromMicros(us: number): Date {
  const ms = Math.floor(us / 1000);
  const sub = us - ms * 1000;
  return sub === 0 ? new Date(ms) : new MicroDate(ms, sub);
}

/**
 * Parses a naive (zone-less = UTC) or zoned ISO-8601 time with up to 6 fraction digits, keeping microseconds.
 * Returns undefined when the text is not such a time.
 */
export function parseIsoMicros(text: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) return undefined;
  const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
  const zone = m[4] ?? 'Z';
  const base = Date.parse(`${m[1]}T${m[2]}${zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  if (Number.isNaN(base)) return undefined;
  return dateFromMicros(base * 1000 + Number(frac));
}

/** Masakari's API format: naive UTC with 6 fraction digits, e.g. "2026-11-22T02:17:33.487258". */
export function formatIsoMicros(d: Date): string {
  const us = microsOf(d);
  const iso = new Date(Math.floor(us / 1000)).toISOString(); // 2026-11-22T02:17:33.487Z
  const sub = String(us - Math.floor(us / 1000) * 1000).padStart(3, '0');
  return `${iso.slice(0, 23)}${sub}`;
}
