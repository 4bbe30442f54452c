// Version documents: GET / (no authentication) lists the API versions, GET /v1 describes v1 (it goes through
// authentication; openstacksdk's discovery reads it), anything else outside /v1 answers 300 Multiple Choices.

import type { Context } from 'hono';
import { versionString, type ApiEnv } from '../context.ts';
import { MAX_VERSION, MIN_VERSION } from '../middleware/microversion.ts';
import { notFound } from '../middleware/faults.ts';
import { reply } from './common.ts';
import { requestHeader } from '../request-header.ts';

const UPDATED = '2016-07-01T11:33:21Z';
const MEDIA_TYPES = [{ base: 'application/json', type: 'application/vnd.openstack.masakari+json;version=1' }];

/** The server's base URL as the client reached it (honours X-Forwarded-Proto/Host from a TLS proxy). */
function baseUrl(c: Context<ApiEnv>): string {
  const url = new URL(c.req.url);
  const proto = requestHeader(c, 'x-forwarded-proto')?.split(',')[0]?.trim() || url.protocol.replace(':', '');
  const host = requestHeader(c, 'x-forwarded-host')?.split(',')[0]?.trim() || url.host;
  return `${proto}://${host}`;
}

const SUMMARY = {
  id: 'v1.0',
  status: 'CURRENT',
  version: versionString(MAX_VERSION),
  min_version: versionString(MIN_VERSION),
  updated: UPDATED,
};

export const versionsRoot = (c: Context<ApiEnv>) =>
  reply(c, 200, { versions: [{ ...SUMMARY, links: [{ rel: 'self', href: `${baseUrl(c)}/v1/` }] }] });

export const versionV1 = (c: Context<ApiEnv>) =>
  reply(c, 200, {
    version: {
      ...SUMMARY,
      links: [
        { rel: 'self', href: `${baseUrl(c)}/v1/` },
        { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      ],
      'media-types': MEDIA_TYPES,
    },
  });

/** Any other path outside /v1 (unknown paths under /v1 are plain 404s). */
export const multipleChoices = (c: Context<ApiEnv>) => {
  if (/^\/v1(\/|$)/.test(c.req.path)) return notFound(c);
  return reply(c, 300, {
    choices: [{ id: 'v1.0', status: 'CURRENT', links: [{ rel: 'self', href: `${baseUrl(c)}/v1/` }], 'media-types': MEDIA_TYPES }],
  });
};
