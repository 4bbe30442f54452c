// Microversion negotiation: on the first request to a service, read its version document (GET on the versioned
// endpoint root: {"version": {"version": "2.93", "min_version": "2.1"}}), choose min(our max, its max), refuse
// when that is below what the driver needs, and send the chosen version on every request to that service.

import { OpenStackError } from '../errors.ts';
import type { Handler, Interceptor, OsRequest } from '../http.ts';

export type Microversion = readonly [number, number];

export function parseMicroversion(s: string): Microversion {
  const m = /^(\d+)\.(\d+)$/.exec(s.trim());
  if (!m) throw new OpenStackError('microversion', `not a microversion: "${s}"`);
  return [Number(m[1]), Number(m[2])];
}
export const formatMicroversion = (v: Microversion) => `${v[0]}.${v[1]}`;
export const compareMicroversion = (a: Microversion, b: Microversion) => a[0] - b[0] || a[1] - b[1];

export interface MicroversionOptions {
  /** Catalog service type the requests carry, e.g. "compute". */
  service: string;
  /** Name in "OpenStack-API-Version: <name> <version>", e.g. "compute". */
  headerName: string;
  /** Lowest version the caller can work with. */
  min: string;
  /** Highest version the caller wants. */
  max: string;
  /** An older header some services also read (Nova: X-OpenStack-Nova-API-Version). */
  legacyHeader?: string;
}

/** The part of an endpoint up to its version segment: http://nova:8774/v2.1/PROJECT -> http://nova:8774/v2.1 */
export function versionRoot(endpoint: string): string {
  const m = /^(.*?\/v\d+(?:\.\d+)?)(?:\/.*)?$/.exec(endpoint.replace(/\/+$/, ''));
  return m ? m[1]! : endpoint;
}

interface VersionDoc {
  id?: string;
  version?: string;
  min_version?: string;
}

export class MicroversionNegotiator {
  private chosen: string | null = null;
  private pending: Promise<string> | null = null;
  readonly interceptor: Interceptor;

  constructor(private readonly o: MicroversionOptions) {
    if (compareMicroversion(parseMicroversion(o.max), parseMicroversion(o.min)) < 0) {
      throw new OpenStackError('microversion', `${o.service}: the configured maximum microversion ${o.max} is below the minimum ${o.min} Masakari needs`);
    }
    this.interceptor = (next) => async (req) => {
      if (req.service !== this.o.service) return next(req);
      const v = this.capped(await this.negotiate(next, req), req.maxMicroversion);
      const headers: Record<string, string> = { ...req.headers, 'OpenStack-API-Version': `${this.o.headerName} ${v}` };
      if (this.o.legacyHeader) headers[this.o.legacyHeader] = v;
      return next({ ...req, headers });
    };
  }

  /** `v`, or the request's cap when that is lower (but never below our minimum). */
  private capped(v: string, cap: string | undefined): string {
    if (cap === undefined) return v;
    const c = parseMicroversion(cap);
    if (compareMicroversion(c, parseMicroversion(v)) >= 0) return v;
    return compareMicroversion(c, parseMicroversion(this.o.min)) < 0 ? this.o.min : formatMicroversion(c);
  }

  /** The negotiated version, once a request has been made. */
  version(): string | null {
    return this.chosen;
  }

  private negotiate(next: Handler, req: OsRequest): Promise<string> {
    if (this.chosen) return Promise.resolve(this.chosen);
    // Not cached on failure: the next request tries again (Nova may just have been restarting).
    this.pending ??= this.discover(next, req).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async discover(next: Handler, req: OsRequest): Promise<string> {
    const url = versionRoot(req.endpoint ?? req.url);
    const res = await next({ method: 'GET', url, service: req.service, endpoint: req.endpoint, headers: req.headers, signal: req.signal });
    if (res.status >= 500) {
      // The service is failing, not lacking microversions: an 'http' error the retry interceptor can retry.
      throw new OpenStackError('http', `GET ${url} (version document) answered HTTP ${res.status}`, { status: res.status, requestId: res.requestId });
    }
    if (res.status !== 200) {
      throw new OpenStackError('microversion', `GET ${url} (version document) answered HTTP ${res.status}`, { status: res.status, requestId: res.requestId });
    }
    const body = res.body as { version?: VersionDoc; versions?: VersionDoc[] } | null;
    const doc = body?.version ?? body?.versions?.find((d) => d.id === url.slice(url.lastIndexOf('/') + 1));
    if (!doc?.version) {
      throw new OpenStackError('microversion', `${url} does not support microversions (no "version" in its version document)`, { requestId: res.requestId });
    }
    const theirMax = parseMicroversion(doc.version);
    const ourMin = parseMicroversion(this.o.min);
    const ourMax = parseMicroversion(this.o.max);
    if (compareMicroversion(theirMax, ourMin) < 0) {
      throw new OpenStackError('microversion', `${this.o.service} at ${url} offers microversions up to ${doc.version}; Masakari needs ${this.o.min} or newer`);
    }
    const chosen = compareMicroversion(theirMax, ourMax) < 0 ? theirMax : ourMax;
    if (doc.min_version && compareMicroversion(chosen, parseMicroversion(doc.min_version)) < 0) {
      throw new OpenStackError(
        'microversion',
        `${this.o.service} at ${url} needs microversion ${doc.min_version} or newer; configured maximum is ${this.o.max}`,
      );
    }
    this.chosen = formatMicroversion(chosen);
    return this.chosen;
  }
}
