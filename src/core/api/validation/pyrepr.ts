// Python's repr() and str() of JSON values. Masakari's validation messages embed request values the way Python
// prints them ("Value: {'name': 'seg-x'}", "'maybe' is not one of [True, 'True', ...]", "None is not of type
// 'object'"), and clients or operators compare those texts, so we print them the same way.

/** Marks an array that Python holds as a tuple (printed with parentheses), e.g. Masakari's enum constants. */
export class PyTuple<T> {
  constructor(readonly items: readonly T[]) {}
}

function reprString(s: string): string {
  // Python prefers single quotes; it switches to double quotes when the text holds a ' but no ".
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + quote;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0xad) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + quote;
}

/** Python text of a JSON number. JSON cannot tell 1 from 1.0 once parsed, so integral values print as ints. */
function reprNumber(n: number): string {
  return String(n);
}

/** Deeper values print as "..." (Python would hit its recursion limit; a message must not take the server down). */
const MAX_DEPTH = 64;

export function pyRepr(v: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) return '...';
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return reprNumber(v);
  if (typeof v === 'string') return reprString(v);
  if (v instanceof PyTuple) {
    const items = v.items.map((x) => pyRepr(x, depth + 1));
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x, depth + 1)).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${reprString(k)}: ${pyRepr(x, depth + 1)}`)
      .join(', ')}}`;
  }
  // Only a bigint, a symbol or a function is left here; none of them prints as [object Object].
  return (v as bigint | symbol | (() => unknown)).toString();
}

/** Python's str(): strings print bare, everything else as repr. */
export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** Python's str(float): 1 -> "1.0", 0.3 -> "0.3" (Masakari prints task progress this way). */
export function pyFloatStr(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}
