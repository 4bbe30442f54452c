// A GET against the controller's API for the commands that ask it something from any machine (masakari whatif).
// Endpoint and credentials, highest precedence first: the flags (--endpoint, --token); the OS_* variables the
// openstack CLI reads (OS_AUTH_URL with OS_USERNAME / OS_PASSWORD / OS_PROJECT_NAME...: a Keystone password token,
// the endpoint from the catalog's instance-ha service unless --endpoint; OS_TOKEN: that token); then the compute
// agent's own settings (compute.controller: endpoint and auth), so a compute node can ask without more setup.

import type { Argv } from 'yargs';
import type { Config } from '../core/config/schema.ts';
import { AppError, errorMessage } from '../core/errors.ts';
import { FixedToken, KeystonePasswordAuth, type ControllerAuth } from '../drivers/delivery/auth.ts';
import { controllerAuth } from '../roles/compute.ts';

export interface ControllerArgs {
  endpoint?: string;
  token?: string;
}

export function controllerOptions<T>(y: Argv<T>) {
  return y
    .option('endpoint', { type: 'string', describe: "the controller's API root ending in /v1 (default: compute.controller.endpoint or the catalog)" })
    .option('token', { type: 'string', describe: 'X-Auth-Token to send (default: OS_TOKEN, a Keystone token from OS_*, or compute.controller.auth)' });
}

/** The controller answered with an error, or could not be reached. */
export class ControllerRequestError extends AppError {
  readonly code = 'CONTROLLER_REQUEST_FAILED';
}

function authFromEnv(config: Config, env: NodeJS.ProcessEnv): ControllerAuth | undefined {
  if (env.OS_TOKEN) return new FixedToken(env.OS_TOKEN);
  if (!env.OS_AUTH_URL || !env.OS_USERNAME) return undefined;
  const iface = env.OS_INTERFACE === 'internal' || env.OS_INTERFACE === 'admin' ? env.OS_INTERFACE : 'public';
  return new KeystonePasswordAuth({
    authUrl: env.OS_AUTH_URL,
    username: env.OS_USERNAME,
    password: env.OS_PASSWORD ?? '',
    projectName: env.OS_PROJECT_NAME ?? 'admin',
    userDomainName: env.OS_USER_DOMAIN_NAME ?? 'Default',
    projectDomainName: env.OS_PROJECT_DOMAIN_NAME ?? 'Default',
    regionName: env.OS_REGION_NAME ?? null,
    interface: iface,
    timeoutMs: config.compute.controller.timeout_seconds * 1000,
  });
}

/** GETs `path` (relative to the /v1 root, e.g. "/x-masakari/whatif?lose=h1") and returns the parsed JSON body. */
export async function controllerGet(config: Config, args: ControllerArgs, path: string, env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  const fromEnv = authFromEnv(config, env);
  const auth: ControllerAuth = args.token ? new FixedToken(args.token) : (fromEnv ?? controllerAuth(config));
  const usesEnvKeystone = !args.token && fromEnv instanceof KeystonePasswordAuth;
  let root = args.endpoint ?? (usesEnvKeystone ? null : config.compute.controller.endpoint);
  if (!root) {
    if (!auth.endpointFromCatalog) throw new ControllerRequestError('no controller endpoint: pass --endpoint or set compute.controller.endpoint');
    root = await auth.endpointFromCatalog();
  }
  const url = `${root.replace(/\/+$/, '')}${path}`;
  const timeoutMs = config.compute.controller.timeout_seconds * 1000;
  const token = await auth.getToken();
  let res: Response;
  try {
    res = await fetch(url, { headers: { 'X-Auth-Token': token.id, Accept: 'application/json' }, signal: AbortSignal.timeout(Math.max(timeoutMs, 60_000)) });
  } catch (e) {
    throw new ControllerRequestError(`cannot reach the controller at ${url}: ${errorMessage(e)}`, { cause: e });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const fault = body && typeof body === 'object' ? Object.values(body as Record<string, { message?: string }>)[0]?.message : undefined;
    throw new ControllerRequestError(`the controller answered ${res.status}: ${fault ?? text.slice(0, 200)}`);
  }
  return body;
}
