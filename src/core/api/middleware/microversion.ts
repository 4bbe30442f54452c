// Microversion negotiation (OpenStack-API-Version: instance-ha X.Y), as Masakari does it with microversion_parse:
// no header (or only other services' entries) -> 1.0; "latest" -> the maximum; a malformed value -> 400; a value
// outside [min, max] -> 406 masakariFault. Successful responses say "masakari X.Y", errors "instance-ha X.Y".

import type { MiddlewareHandler } from 'hono';
import { MasakariError, badRequest } from '../../domain/errors.ts';
import { versionString, type ApiEnv, type ApiVersion } from '../context.ts';
import { VERSION_HEADER } from './faults.ts';
import { preparedResponses } from './prepared.ts';
import { requestHeader } from '../request-header.ts';

const VERSION_HEADER_LC = VERSION_HEADER.toLowerCase();

export const MIN_VERSION: ApiVersion = { major: 1, minor: 0 };
/** 1.3 adds vmoves (upstream master); Masakari 14.0.2 stops at 1.2. */
export const MAX_VERSION: ApiVersion = { major: 1, minor: 3 };
export const SERVICE_TYPE = 'instance-ha';

const cmp = (a: ApiVersion, b: ApiVersion) => a.major - b.major || a.minor - b.minor;

/** The instance-ha entry of the header (entries are "service version", comma separated; the last one wins). */
export function requestedVersion(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  for (const item of header.split(',')) {
    const [service, version] = item.trim().split(/\s+/, 2);
    if (service?.toLowerCase() === SERVICE_TYPE && version !== undefined) found = version;
  }
  return found;
}

export function parseVersion(text: string): ApiVersion {
  if (text.toLowerCase() === 'latest') return MAX_VERSION;
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(text);
  if (!m) throw badRequest(`API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export const microversion: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const raw = requestedVersion(requestHeader(c, VERSION_HEADER_LC));
  const v = raw === undefined ? MIN_VERSION : parseVersion(raw);
  c.set('version', v);
  if (cmp(v, MIN_VERSION) < 0 || cmp(v, MAX_VERSION) > 0) {
    throw new MasakariError(
      406,
      'masakariFault',
      `Version ${versionString(v)} is not supported by the API. Minimum is ${versionString(MIN_VERSION)} and maximum is ${versionString(MAX_VERSION)}.`,
    );
  }
  await next();
  if (c.res.status < 400 && !preparedResponses.has(c.res)) {
    c.res.headers.set(VERSION_HEADER, `masakari ${versionString(v)}`);
    c.res.headers.set('Vary', VERSION_HEADER);
  }
};
