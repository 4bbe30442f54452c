// The one place that hides credentials written inside URLs, for everything we print: `config check --show`, log
// lines (src/core/log.ts masks every logged value), error messages at startup (src/cli/common.ts), fencer output
// (src/drivers/fence/redact.ts). Keys that hold a secret by name (password, token...) are masked by their printers;
// this is for the secrets a key's name does not announce: database.url: mysql://masakari:SECRET@db/masakari, a
// Redfish url https://root:SECRET@bmc, a libvirt URI, a Keystone auth_url.

export const MASK = '***';

// scheme://user:password@ : the user name is kept (it says which account), the password masked. The password runs
// to the LAST '@' before whitespace or a quote, so an unescaped '@' or '/' in it is masked too (over-masking a
// query string that holds an '@' is the safe side).
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/'"]*):[^\s'"]*@/gi;
// ?password=...&token=... in a URL's query (SQLAlchemy and libvirt URLs take options there).
const SECRET_PARAM = /([?&;](?:password|passwd|pwd|secret|token|auth_token|api_key|apikey|key)=)[^&#\s'"]*/gi;

/** The text with every URL's password (and secret query parameters) replaced by ***. */
export function maskUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(USERINFO, `$1:${MASK}@`).replace(SECRET_PARAM, `$1${MASK}`);
}

/**
 * A copy of `value` with maskUrlCredentials applied to every string in it (objects, arrays, an Error's message and
 * stack). Values without a URL in them are returned as they are, so the common case copies nothing.
 */
export function maskDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return maskUrlCredentials(value) as T;
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const message = maskUrlCredentials(value.message);
    const stack = value.stack === undefined ? undefined : maskUrlCredentials(value.stack);
    if (message === value.message && stack === value.stack) return value;
    const copy = Object.assign(Object.create(Object.getPrototypeOf(value) as object) as Error, value, { message });
    if (stack !== undefined) copy.stack = stack;
    return copy;
  }
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    const out = items.map((v) => maskDeep(v, depth + 1));
    return (out.some((v, i) => v !== value[i]) ? out : value) as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = maskDeep(v, depth + 1);
    if (out[k] !== v) changed = true;
  }
  return (changed ? out : value) as T;
}
