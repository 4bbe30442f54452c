// Who is calling, and which URL they used. Behind a TLS-terminating proxy the socket's peer, Host and scheme are the
// proxy's; the proxy passes the original ones in Forwarded (RFC 7239) or X-Forwarded-Proto/-Host/-For. Any client
// can send those headers too, so they count only when api.enable_proxy_headers_parsing is on: Masakari's pipeline
// runs oslo.middleware's HTTPProxyToWSGI, which has the same switch, off by default, and the same precedence
// (Forwarded, when present, replaces the X-Forwarded-* headers; the first element is the proxy nearest the client).
// Even then only well-formed values count: scheme http or https, host[:port]. Anything else is ignored rather than
// echoed into the links of the version documents.

import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import { requestHeader } from './request-header.ts';

/** The address of the socket's peer (the proxy, behind one); undefined under app.request() (no socket). */
export function peerAddress(c: Context): string | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
}

const PROTOCOLS = new Set(['http', 'https']);
// host = [IPv6] / dotted labels (IPv4 and DNS names; '_' as some internal names use it), then an optional port.
const HOST = /^(?:\[[0-9a-f:.]+\]|(?:[a-z0-9_-]+\.)*[a-z0-9_-]+\.?)(?::(\d{1,5}))?$/i;

function validHost(host: string | undefined): string | undefined {
  if (!host || host.length > 255) return undefined;
  const m = HOST.exec(host);
  if (!m || (m[1] !== undefined && Number(m[1]) > 65535)) return undefined;
  return host;
}

function validProto(proto: string | undefined): string | undefined {
  const p = proto?.toLowerCase();
  return p && PROTOCOLS.has(p) ? p : undefined;
}

/** The first element of an RFC 7239 Forwarded header as lower-case parameter names and unquoted values. */
function firstForwardedElement(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of header.split(',')[0]!.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    out[pair.slice(0, eq).trim().toLowerCase()] = value;
  }
  return out;
}

const firstListItem = (v: string | undefined) => v?.split(',')[0]!.trim();

/** scheme://host[:port] as the client reached the API (the proxy's view when parsing is on and it says so). */
export function publicOrigin(c: Context, parseProxyHeaders: boolean): string {
  const own = new URL(c.req.url);
  let proto: string | undefined;
  let host: string | undefined;
  if (parseProxyHeaders) {
    const forwarded = requestHeader(c, 'forwarded');
    if (forwarded !== undefined) {
      const first = firstForwardedElement(forwarded);
      proto = first.proto;
      host = first.host;
    } else {
      proto = firstListItem(requestHeader(c, 'x-forwarded-proto'));
      host = firstListItem(requestHeader(c, 'x-forwarded-host'));
    }
  }
  return `${validProto(proto) ?? own.protocol.slice(0, -1)}://${validHost(host) ?? own.host}`;
}

const MAX_LOGGED = 256;

/**
 * The clients a proxy says it forwarded for, for the access log (only when parsing is on): the Forwarded header's
 * for= values, else X-Forwarded-For as sent. Logged, never used for a decision.
 */
export function forwardedFor(c: Context): string | undefined {
  const forwarded = requestHeader(c, 'forwarded');
  let v: string | undefined;
  if (forwarded !== undefined) {
    const fors = forwarded
      .split(',')
      .map((element) => /(?:^|;)\s*for=("(?:[^"\\]|\\.)*"|[^;,]*)/i.exec(element)?.[1]?.replace(/^"|"$/g, ''))
      .filter((x): x is string => !!x);
    v = fors.length ? fors.join(', ') : undefined;
  } else v = requestHeader(c, 'x-forwarded-for')?.trim() || undefined;
  return v !== undefined && v.length > MAX_LOGGED ? `${v.slice(0, MAX_LOGGED)}…` : v;
}
