// Compares one of our responses with the captured Masakari response: same JSON shape (keys in the same order,
// same value types) and the same values where they are deterministic. uuids are generated on both sides, so the
// first sighting of a captured uuid binds it to ours at the same place, and every later sighting must agree.

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
/** Timestamps the server takes from its clock: compared by format (and null-ness), not by value. */
const CLOCK_FIELDS = new Set(['created_at', 'updated_at', 'deleted_at']);
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export class UuidMap {
  private readonly ours = new Map<string, string>();
  private readonly theirs = new Map<string, string>();

  /** Records captured -> ours; false when either side is already bound to something else. */
  bind(captured: string, actual: string): boolean {
    const known = this.ours.get(captured);
    if (known !== undefined) return known === actual;
    if (this.theirs.has(actual) || captured === ZERO_UUID) return captured === actual;
    this.ours.set(captured, actual);
    this.theirs.set(actual, captured);
    return true;
  }

  /** Replaces every bound captured uuid in `text` by ours (unbound ones, such as the all-zero uuid, stay). */
  translate(text: string): string {
    return text.replace(UUID_RE, (u) => this.ours.get(u) ?? u);
  }
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Returns the differences found (empty when the bodies conform). */
export function compareBodies(expected: unknown, actual: unknown, uuids: UuidMap, path = '$', problems: string[] = []): string[] {
  const key = path.slice(path.lastIndexOf('.') + 1);
  if (typeOf(expected) !== typeOf(actual)) {
    problems.push(`${path}: type ${typeOf(actual)} (${JSON.stringify(actual)?.slice(0, 80)}), expected ${typeOf(expected)}`);
    return problems;
  }
  if (Array.isArray(expected)) {
    const a = actual as unknown[];
    if (a.length !== expected.length) problems.push(`${path}: ${a.length} items, expected ${expected.length}`);
    for (let i = 0; i < Math.min(a.length, expected.length); i++) compareBodies(expected[i], a[i], uuids, `${path}.${i}`, problems);
    return problems;
  }
  if (typeOf(expected) === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const ek = Object.keys(e).join(',');
    const ak = Object.keys(a).join(',');
    if (ek !== ak) problems.push(`${path}: keys [${ak}], expected [${ek}]`);
    for (const k of Object.keys(e)) if (k in a) compareBodies(e[k], a[k], uuids, `${path}.${k}`, problems);
    return problems;
  }
  if (typeof expected === 'string' && typeof actual === 'string') {
    if (CLOCK_FIELDS.has(key)) {
      if (!TIMESTAMP_RE.test(actual)) problems.push(`${path}: ${actual} is not YYYY-MM-DDTHH:MM:SS.ffffff`);
      return problems;
    }
    const whole = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    if (whole.test(expected) && whole.test(actual)) {
      if (!uuids.bind(expected, actual)) problems.push(`${path}: uuid ${actual} does not correspond to captured ${expected}`);
      return problems;
    }
    const want = uuids.translate(expected);
    if (want !== actual) problems.push(`${path}: ${JSON.stringify(actual).slice(0, 300)}, expected ${JSON.stringify(want).slice(0, 300)}`);
    return problems;
  }
  if (expected !== actual) problems.push(`${path}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  return problems;
}
