// Version documents: GET / (no authentication) lists the API versions, GET /v1 describes v1 (it goes through
// authentication; openstacksdk's discovery reads it), anything else outside /v1 answers 300 Multiple Choices.

import type { Context } from 'hono';
import { versionString, type ApiEnv } from '../context.ts';
import { MAX_VERSION, MIN_VERSION } from '../middleware/microversion.ts';
import { notFound } from '../middleware/faults.ts';
import { publicOrigin } from '../proxy-headers.ts';
import { reply } from './common.ts';

const UPDATED = '2016-07-01T11:33:21Z';
const MEDIA_TYPES = [{ base: 'application/json', type: 'application/vnd.openstack.masakari+json;version=1' }];

const SUMMARY = {
  id: 'v1.0',
  status: 'CURRENT',
  version: versionString(MAX_VERSION),
  min_version: versionString(MIN_VERSION),
  updated: UPDATED,
};

/**
 * The three handlers. Links carry the URL the client used; proxy headers say what that was only when
 * api.enable_proxy_headers_parsing is on (proxy-headers.ts).
 */
export function versionDocuments(opts: { parseProxyHeaders: boolean }) {
  const self = (c: Context<ApiEnv>) => ({ rel: 'self', href: `${publicOrigin(c, opts.parseProxyHeaders)}/v1/` });
  return {
    root: (c: Context<ApiEnv>) => reply(c, 200, { versions: [{ ...SUMMARY, links: [self(c)] }] }),
    v1: (c: Context<ApiEnv>) =>
      reply(c, 200, {
        version: {
          ...SUMMARY,
          links: [self(c), { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' }],
          'media-types': MEDIA_TYPES,
        },
      }),
    /** Any other path outside /v1 (unknown paths under /v1 are plain 404s). */
    multipleChoices: (c: Context<ApiEnv>) => {
      if (/^\/v1(\/|$)/.test(c.req.path)) return notFound(c);
      return reply(c, 300, { choices: [{ id: 'v1.0', status: 'CURRENT', links: [self(c)], 'media-types': MEDIA_TYPES }] });
    },
  };
}
