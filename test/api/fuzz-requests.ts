// Mutated HTTP requests for test/api/fuzz.test.ts, from a seeded generator (same seed, same requests, apart from the
// uuids the server gave the seeded segments and hosts). Each request starts as a valid Masakari API call and gets
// one to four mutations: method, path and query, headers (microversion, content type, framing, junk), the JSON body
// (type confusion, huge numbers, unicode, deep nesting, bad UTF-8, truncation) or the raw bytes.

export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: small, fast, good enough to explore inputs; reproducible from one 32-bit seed. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]!, chance: (p) => next() < p };
}

export interface Known {
  segments: string[];
  hosts: { segment: string; host: string; name: string }[];
  notifications: string[];
}

interface Req {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  /** JSON value (serialized later), raw text, or raw bytes. */
  body: { json: unknown } | { text: string } | { bytes: Buffer } | undefined;
  framing: 'length' | 'chunked' | 'bad-chunked' | 'length-short' | 'length-long' | 'none' | 'length-and-chunked';
}

export interface FuzzCase {
  /** What was done, for failure messages. */
  label: string;
  method: string;
  bytes: Buffer;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'CONNECT', 'FROB', 'get', 'G E T', ''];
const PATH_SEGMENTS = [
  '..',
  '%2e%2e',
  '%ZZ',
  '%00',
  '%ff',
  '%C0%AF',
  'é',
  '%F0%9F%98%80',
  ';x',
  'action',
  'x'.repeat(3000),
  '0',
  '-1',
  '1e9',
  '00000000-0000-0000-0000-000000000000',
  'segments',
  'hosts',
  'notifications',
  'vmoves',
  '',
  '\\',
  '*',
  '%2F',
  'null',
  '__proto__',
];
const QUERIES = [
  'limit=-1',
  'limit=abc',
  'limit=1e309',
  'limit=99999999999999999999',
  'limit=0',
  'limit=1&limit=2',
  'marker=abc',
  'marker=-1',
  'marker=99999999999',
  'marker=1',
  'sort_key=bogus',
  'sort_key=name&sort_dir=sideways',
  'sort_key=name&sort_key=uuid&sort_dir=asc',
  'sort_dir=asc',
  'enabled=maybe',
  'enabled=TRUE',
  'on_maintenance=2',
  'reserved=x',
  'status=new,bogus',
  'status=',
  'generated-since=yesterday',
  'generated_since=2020-01-01T00:00:00Z',
  'generated-since=9999-99-99',
  'type=%00',
  'recovery_method=%C3%A9',
  'limit',
  '=',
  '&&&',
  '%',
  'a=%zz',
  'service_type[]=x',
  '__proto__=1',
  'constructor=x',
  'source_host_uuid=x',
  `name=${'n'.repeat(2000)}`,
];
const MICROVERSIONS = [
  'instance-ha 1.0',
  'instance-ha 1.1',
  'instance-ha 1.2',
  'instance-ha 1.3',
  'instance-ha latest',
  'instance-ha 1.4',
  'instance-ha 0.9',
  'instance-ha 2.0',
  'instance-ha 1',
  'instance-ha 1.2.3',
  'instance-ha ',
  'instance-ha abc',
  'instance-ha 01.1',
  'instance-ha 1.01',
  'instance-ha 99999999999999999999.0',
  'compute 2.1',
  'instance-ha 1.0, instance-ha 1.3',
  'INSTANCE-HA LATEST',
  'instance-ha\t1.1',
  'instance-ha \u00e9',
  '',
  ',,,',
  'instance-ha -1.0',
];
const CONTENT_TYPES = [
  'application/json',
  'text/plain',
  'application/xml',
  'application/vnd.openstack.masakari+json',
  'application/json; charset=utf-16',
  'multipart/form-data; boundary=x',
  '',
  '*/*',
  'application/x-www-form-urlencoded',
  'Application/JSON',
  'application/json;;;',
  'json',
];
const HEADER_JUNK: [string, string][] = [
  ['X-Auth-Token', 'bogus'],
  ['X-Auth-Token', ''],
  ['X-Auth-Token', 'admin-token'],
  ['X-Auth-Token', 'member-token'],
  ['X-Auth-Token', 'reader-token'],
  ['X-User-Id', '\u00e9'],
  ['X-User-Id', 'u'.repeat(5000)],
  ['X-Roles', 'admin'],
  ['X-Project-Id', 'abc'],
  ['Accept', '*/*;q=bogus'],
  ['Host', 'a b'],
  ['Host', ''],
  ['Host', 'x:99999'],
  ['Host', '[::1]:80'],
  ['Host', 'evil.example'],
  ['Host', 'x\u00ff'],
  ['X-Forwarded-Proto', 'javascript'],
  ['X-Forwarded-Host', 'evil.example/x'],
  ['X-Forwarded-For', '1.2.3.4'],
  ['Forwarded', 'for=";host=x'],
  ['Expect', '100-continue'],
  ['Expect', 'tea'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Connection', 'close'],
  ['Connection', 'keep-alive, bogus'],
  ['Content-Length', 'abc'],
  ['Content-Length', '-1'],
  ['Content-Length', '99999999999999999999'],
  ['Content-Length', '1e3'],
  ['Transfer-Encoding', 'gzip'],
  ['Transfer-Encoding', 'chunked, chunked'],
  ['Content-Encoding', 'gzip'],
  ['OpenStack-API-Version', 'instance-ha latest'],
  ['X-Openstack-Request-Id', 'req-mine'],
  ['Bad Header', 'y'],
  ['X-A', 'a\0b'],
  ['X-A', 'a\rb'],
  ['X-\u00e9', 'v'],
  ['X-A', '\u00ff\u00fe'],
  ['', 'empty-name'],
  [':path', '/'],
  ['X-Big', 'b'.repeat(20000)],
];
/** JSON values for type confusion. */
const WEIRD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0,
  1e308,
  2 ** 53 + 2,
  '',
  ' ',
  'x'.repeat(256),
  'x'.repeat(5000),
  '\u0000',
  '\ud800',
  '😀',
  'é',
  '\u202e',
  '<script>',
  "'; DROP TABLE segments; --",
  '%s%n',
  [],
  [1],
  {},
  { a: 1 },
  '1',
  'true',
  'null',
  'None',
  '2024-13-45T99:99:99',
  '1970-01-01T00:00:00',
  '2026-01-01T00:00:00+25:00',
  '00000000-0000-0000-0000-000000000000',
  'auto',
  'reserved_host',
  'COMPUTE',
  'COMPUTE_HOST',
  'VM',
  'PROCESS',
  'SSH',
  'STOPPED',
  'NORMAL',
  'a\nb',
  '\t',
];
/** Number texts JSON.parse takes but that break naive code (Infinity, precision loss, -0). */
const NUMBER_TEXTS = ['1e400', '-1e400', '123456789012345678901234567890', '0.1e-400', '-0', '1E2', '1.0', '9007199254740993'];
const RAW_BODIES = [
  '',
  'null',
  '[]',
  '"segment"',
  '1',
  '{',
  '{"segment":',
  '{"segment":{}}x',
  '\ufeff{"segment":{}}',
  '{"a":1,"a":2}',
  'NaN',
  '{"segment":{"name":"a","name":"b"}}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `{"segment":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`,
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{}}}',
  '<segment/>',
  'a=1&b=2',
  '\u0000',
];

const hex = (r: Rng, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[r.int(16)]).join('');
const uuidOf = (r: Rng) => `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`;

function validRequest(r: Rng, k: Known): Req {
  const seg = k.segments.length && r.chance(0.8) ? r.pick(k.segments) : uuidOf(r);
  const h = k.hosts.length && r.chance(0.8) ? r.pick(k.hosts) : { segment: seg, host: uuidOf(r), name: `host-${r.int(100)}` };
  const n = k.notifications.length && r.chance(0.8) ? r.pick(k.notifications) : uuidOf(r);
  const name = `fz-${hex(r, 6)}`;
  const req = (method: string, target: string, json?: unknown): Req => ({
    method,
    target,
    version: 'HTTP/1.1',
    headers: [['Host', 'masakari.test']],
    body: json === undefined ? undefined : { json },
    framing: json === undefined ? 'none' : 'length',
  });
  switch (r.int(16)) {
    case 0:
      return req('GET', '/');
    case 1:
      return req('GET', '/v1');
    case 2:
      return req('GET', '/v1/segments?limit=5');
    case 3:
      return req('GET', `/v1/segments/${seg}`);
    case 4:
      return req('GET', `/v1/segments/${h.segment}/hosts`);
    case 5:
      return req('GET', `/v1/segments/${h.segment}/hosts/${h.host}`);
    case 6:
      return req('GET', '/v1/notifications?status=new,error&sort_key=generated_time');
    case 7:
      return req('GET', `/v1/notifications/${n}`);
    case 8:
      return req('GET', `/v1/notifications/${n}/vmoves`);
    case 9:
      return req('POST', '/v1/segments', {
        segment: {
          name,
          recovery_method: r.pick(['auto', 'reserved_host', 'auto_priority', 'rh_priority']),
          service_type: 'COMPUTE',
          description: 'fuzz',
          enabled: true,
        },
      });
    case 10:
      return req('PUT', `/v1/segments/${seg}`, { segment: { description: `d${r.int(1000)}`, enabled: r.chance(0.5) } });
    case 11:
      return req('POST', `/v1/segments/${seg}/hosts`, { host: { name, type: 'COMPUTE', control_attributes: 'SSH', reserved: false, on_maintenance: false } });
    case 12:
      return req('PUT', `/v1/segments/${h.segment}/hosts/${h.host}`, { host: { reserved: r.chance(0.5), on_maintenance: r.chance(0.2) } });
    case 13:
      return req('POST', '/v1/notifications', {
        notification: {
          type: 'VM',
          hostname: h.name,
          generated_time: new Date(1_700_000_000_000 + r.int(1e9)).toISOString(),
          payload: { event: 'LIFECYCLE', instance_uuid: uuidOf(r), vir_domain_event: 'STOPPED_FAILED' },
        },
      });
    case 14:
      return req('POST', '/v1/notifications', {
        notification: {
          type: 'COMPUTE_HOST',
          hostname: h.name,
          generated_time: '2026-01-01T00:00:00',
          payload: { event: 'STOPPED', host_status: 'NORMAL', cluster_status: 'OFFLINE' },
        },
      });
    default:
      return req('DELETE', r.chance(0.1) ? `/v1/segments/${seg}` : `/v1/segments/${uuidOf(r)}`);
  }
}

/** Every node of a JSON tree as a path of keys/indices (the root is []). */
function nodes(v: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...path, i], out));
  else if (v && typeof v === 'object') for (const [key, x] of Object.entries(v)) nodes(x, [...path, key], out);
  return out;
}

function mutateJson(r: Rng, value: unknown): unknown {
  const root = { v: structuredClone(value) } as Record<string, unknown>;
  const paths = nodes(root.v).map((p) => ['v', ...p]);
  const path = r.pick(paths);
  const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], root);
  const key = path[path.length - 1]!;
  switch (r.int(5)) {
    case 0:
      parent[key] = r.pick(WEIRD_VALUES);
      break;
    case 1:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 2: {
      const target = parent[key];
      if (target && typeof target === 'object' && !Array.isArray(target))
        target[r.pick(['extra', 'name', 'enabled', 'payload', 'type', 'id', '__proto__', 'é'])] = r.pick(WEIRD_VALUES);
      else parent[key] = r.pick(WEIRD_VALUES);
      break;
    }
    case 3:
      parent[key] = [parent[key]];
      break;
    default:
      parent[key] = { [String(key)]: parent[key] };
      break;
  }
  return root.v;
}

function mutate(r: Rng, q: Req, k: Known): string {
  switch (r.int(9)) {
    case 0:
      q.method = r.pick(METHODS);
      return `method ${JSON.stringify(q.method)}`;
    case 1: {
      const [path, query] = q.target.split('?');
      const parts = path!.split('/');
      const seg = r.pick(PATH_SEGMENTS);
      if (r.chance(0.5)) parts[1 + r.int(parts.length - 1)] = seg;
      else parts.push(seg);
      if (r.chance(0.2)) parts.splice(2, 0, hex(r, 32));
      q.target = parts.join('/') + (query ? `?${query}` : '');
      if (r.chance(0.1))
        q.target = r.pick(['*', 'http://masakari.test/v1/segments', 'https://x/v1', '//v1', 'masakari.test:80', '/v1\\segments', '/v1/segments#frag']);
      return `path ${JSON.stringify(q.target.slice(0, 80))}`;
    }
    case 2: {
      const add = Array.from({ length: 1 + r.int(3) }, () => r.pick(QUERIES)).join('&');
      q.target += (q.target.includes('?') ? '&' : '?') + add;
      return `query ${JSON.stringify(add.slice(0, 80))}`;
    }
    case 3: {
      const v = r.pick(MICROVERSIONS);
      q.headers.push(['OpenStack-API-Version', v]);
      return `microversion ${JSON.stringify(v)}`;
    }
    case 4: {
      const v = r.pick(CONTENT_TYPES);
      q.headers.push(['Content-Type', v]);
      if (!q.body && r.chance(0.5)) q.body = { json: {} };
      return `content-type ${JSON.stringify(v)}`;
    }
    case 5: {
      const h = r.pick(HEADER_JUNK);
      if (h[0] === 'Host') q.headers = q.headers.filter(([n]) => n !== 'Host');
      q.headers.push(h);
      return `header ${JSON.stringify(h[0])}: ${JSON.stringify(h[1].slice(0, 40))}`;
    }
    case 6: {
      if (q.body === undefined) q.body = { json: validRequest(r, k).body ?? { segment: {} } };
      if ('json' in q.body) {
        if (r.chance(0.75)) {
          q.body = { json: mutateJson(r, q.body.json) };
          return 'json type confusion';
        }
        // A number somewhere replaced by a number text JSON.parse takes but that does not fit.
        const text = JSON.stringify(q.body.json) ?? 'null';
        const numbers = [...text.matchAll(/(?<=[:[,])(?:true|false|null|-?\d+(?:\.\d+)?)(?=[,\]}])/g)];
        const big = r.pick(NUMBER_TEXTS);
        q.body = {
          text: numbers.length
            ? (() => {
                const m = r.pick(numbers);
                return text.slice(0, m.index) + big + text.slice(m.index + m[0].length);
              })()
            : big,
        };
        return `number ${big}`;
      }
      return 'body kept';
    }
    case 7: {
      const choice = r.int(4);
      if (choice === 0) {
        q.body = { text: r.pick(RAW_BODIES) };
        q.framing = 'length';
        return 'raw body';
      }
      if (choice === 1) {
        q.body = { bytes: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x22, 0x7d]) };
        q.framing = 'length';
        return 'invalid UTF-8 body';
      }
      if (!q.body) q.body = { json: { segment: { name: 'x', recovery_method: 'auto', service_type: 'COMPUTE' } } };
      q.framing = r.pick(['chunked', 'bad-chunked', 'length-short', 'length-long', 'none', 'length-and-chunked'] as const);
      return `framing ${q.framing}`;
    }
    default:
      q.version = r.pick(['HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', '']);
      if (q.version === 'HTTP/1.0' && r.chance(0.5)) q.headers = q.headers.filter(([n]) => n !== 'Host');
      return `version ${JSON.stringify(q.version)}`;
  }
}

function serialize(q: Req): Buffer {
  let body: Buffer | undefined;
  if (q.body) {
    if ('json' in q.body) body = Buffer.from(JSON.stringify(q.body.json) ?? 'null', 'utf8');
    else if ('text' in q.body) body = Buffer.from(q.body.text, 'utf8');
    else body = q.body.bytes;
  }
  const headers = [...q.headers];
  let payload = body ?? Buffer.alloc(0);
  if (body) {
    if (!headers.some(([n]) => n.toLowerCase() === 'content-type')) headers.push(['Content-Type', 'application/json']);
    const chunked = () => Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
    switch (q.framing) {
      case 'length':
        headers.push(['Content-Length', String(body.length)]);
        break;
      case 'length-short':
        headers.push(['Content-Length', String(Math.max(0, body.length - 5))]);
        break;
      case 'length-long':
        headers.push(['Content-Length', String(body.length + 50)]);
        break;
      case 'chunked':
        headers.push(['Transfer-Encoding', 'chunked']);
        payload = chunked();
        break;
      case 'bad-chunked':
        headers.push(['Transfer-Encoding', 'chunked']);
        payload = Buffer.concat([Buffer.from('zz\r\n'), body]);
        break;
      case 'length-and-chunked':
        headers.push(['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']);
        payload = chunked();
        break;
      case 'none':
        break;
    }
  }
  const head = `${q.method} ${q.target} ${q.version}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
  // latin1: one byte per char, so header junk like \u00ff goes out as the byte 0xff, as a sloppy client would send it.
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

/** Raw byte damage after serialization: a flipped bit, a cut, or inserted junk. */
function damage(r: Rng, bytes: Buffer): { bytes: Buffer; label: string } {
  const at = r.int(bytes.length);
  switch (r.int(3)) {
    case 0: {
      const b = Buffer.from(bytes);
      b[at] = b[at]! ^ (1 << r.int(8));
      return { bytes: b, label: `bit flip at ${at}` };
    }
    case 1:
      return { bytes: bytes.subarray(0, at), label: `cut at ${at}` };
    default:
      return {
        bytes: Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from(r.pick(['\r\n', '\0', ':', ' ', '\r\n\r\n', '\u00ff', 'GET / HTTP/1.1\r\n']), 'latin1'),
          bytes.subarray(at),
        ]),
        label: `junk at ${at}`,
      };
  }
}

export function fuzzCase(r: Rng, k: Known, opts: { token?: () => string | undefined } = {}): FuzzCase {
  const q = validRequest(r, k);
  const token = opts.token?.();
  if (token !== undefined) q.headers.push(['X-Auth-Token', token]);
  const labels: string[] = [];
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) labels.push(mutate(r, q, k));
  let bytes = serialize(q);
  if (r.chance(0.15)) {
    const d = damage(r, bytes);
    bytes = d.bytes;
    labels.push(d.label);
  }
  return { label: `${q.method} ${q.target.slice(0, 60)} [${labels.join('; ')}]`, method: q.method, bytes };
}
