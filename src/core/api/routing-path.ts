// The path the router sees. Masakari serves every resource both at /v1/... and at /v1/{project_id}/... (the service
// catalog may hold either form). Mounting the routes twice, with a pattern parameter for the project, makes hono
// fall back from its RegExpRouter to the much slower TrieRouter (a tenth of a cached GET's time). Instead the
// project segment is cut from the path before routing, and checkUrlProject reads it back from the URL.
//
// The project must be hex digits and dashes (a Keystone project id): no collection name ("segments",
// "notifications") is, so /v1/segments is never mistaken for a project.

import { getPathNoStrict } from 'hono/utils/url';

const PROJECT_IN_PATH = /^\/v1\/([0-9a-f-]+)(?=\/|$)/;

/** hono getPath: Masakari's non-strict trailing slash, and /v1/{project_id}/rest routed as /v1/rest. */
export function routingPath(request: Request): string {
  const path = getPathNoStrict(request);
  const m = PROJECT_IN_PATH.exec(path);
  return m ? `/v1${path.slice(m[0].length)}` : path;
}

/** The {project_id} of a /v1/{project_id}/... URL, or undefined for the plain /v1/... form. */
export function projectInUrl(url: string): string | undefined {
  const start = url.indexOf('/', url.indexOf(':') + 3);
  if (start < 0 || !url.startsWith('/v1/', start)) return undefined;
  const end = url.indexOf('?', start);
  return PROJECT_IN_PATH.exec(end < 0 ? url.slice(start) : url.slice(start, end))?.[1];
}
