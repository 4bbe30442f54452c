// Commands that ask a running controller (masakari protection, masakari whatif): where the
// controller is and how to authenticate, from the same configuration as the compute agent (compute.controller),
// overridden by OS_* variables like the openstack CLI, overridden by flags. So they work from any machine.

import type { Argv } from 'yargs';
import type { Config } from '../core/config/schema.ts';
import { AppError, errorMessage } from '../core/errors.ts';
import { faultMessage } from '../core/ports/notification-transport.ts';
import { controllerAuth } from '../roles/compute.ts';
import { timeoutInterceptor } from '../drivers/http/interceptors/timeout.ts';
import { compose, fetchHandler, type OsRequest } from '../drivers/openstack/http.ts';
import { authInterceptor } from '../drivers/openstack/interceptors/auth.ts';

export interface ControllerClientArgs {
  endpoint?: string;
  'os-token'?: string;
  'os-auth-url'?: string;
  'os-username'?: string;
  'os-password'?: string;
  'os-project-name'?: string;
  'os-user-domain-name'?: string;
  'os-project-domain-name'?: string;
  'os-region-name'?: string;
  'os-interface'?: string;
}

export function controllerClientOptions<T>(y: Argv<T>) {
  return y
    .option('endpoint', { type: 'string', describe: "controller API root ending in /v1 (default: compute.controller.endpoint, or Keystone's catalog)" })
    .option('os-token', { type: 'string', alias: 'token', describe: 'X-Auth-Token to send (OS_TOKEN); noauth2 controllers take any' })
    .option('os-auth-url', { type: 'string', describe: 'Keystone v3 URL (OS_AUTH_URL): get a token with the password options' })
    .option('os-username', { type: 'string', describe: 'OS_USERNAME' })
    .option('os-password', { type: 'string', describe: 'OS_PASSWORD' })
    .option('os-project-name', { type: 'string', describe: 'OS_PROJECT_NAME' })
    .option('os-user-domain-name', { type: 'string', describe: 'OS_USER_DOMAIN_NAME' })
    .option('os-project-domain-name', { type: 'string', describe: 'OS_PROJECT_DOMAIN_NAME' })
    .option('os-region-name', { type: 'string', describe: 'OS_REGION_NAME' })
    .option('os-interface', { choices: ['public', 'internal', 'admin'], describe: 'OS_INTERFACE' });
}

/** The controller answered with an error, or could not be reached. */
export class ControllerRequestError extends AppError {
  readonly code = 'CONTROLLER_REQUEST_FAILED';
}

/** compute.controller with the OS_* variables and the flags applied (flags win). */
export function clientConfig(config: Config, args: ControllerClientArgs, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: keyof ControllerClientArgs, variable: string): string | undefined => args[flag] ?? env[variable] ?? undefined;
  const c = config.compute.controller;
  const authUrl = pick('os-auth-url', 'OS_AUTH_URL');
  const token = pick('os-token', 'OS_TOKEN');
  let auth = c.auth;
  if (token !== undefined) auth = { ...auth, type: 'none', token };
  else if (authUrl !== undefined) {
    auth = {
      ...auth,
      type: 'keystone_password',
      auth_url: authUrl,
      username: pick('os-username', 'OS_USERNAME') ?? auth.username,
      password: pick('os-password', 'OS_PASSWORD') ?? auth.password,
      project_name: pick('os-project-name', 'OS_PROJECT_NAME') ?? auth.project_name,
      user_domain_name: pick('os-user-domain-name', 'OS_USER_DOMAIN_NAME') ?? auth.user_domain_name,
      project_domain_name: pick('os-project-domain-name', 'OS_PROJECT_DOMAIN_NAME') ?? auth.project_domain_name,
      region_name: pick('os-region-name', 'OS_REGION_NAME') ?? auth.region_name,
      interface: (pick('os-interface', 'OS_INTERFACE') as typeof auth.interface | undefined) ?? auth.interface,
    };
  }
  const endpoint = args.endpoint ?? c.endpoint;
  return { ...config, compute: { ...config.compute, controller: { ...c, endpoint, auth } } };
}

export interface ControllerRequestOptions {
  /** At least this long for the answer, whatever compute.controller.timeout_seconds says (slow reports). */
  minTimeoutMs?: number;
}

/** One request to the controller's API; the parsed JSON body of a 2xx, else ControllerRequestError. */
export async function controllerRequest(config: Config, method: 'GET' | 'POST', path: string, opts: ControllerRequestOptions = {}): Promise<unknown> {
  const c = config.compute.controller;
  const auth = controllerAuth(config);
  const timeoutMs = Math.max(c.timeout_seconds * 1000, opts.minTimeoutMs ?? 0);
  const http = compose<OsRequest>(fetchHandler, authInterceptor(auth), timeoutInterceptor(timeoutMs));
  let endpoint = c.endpoint;
  if (endpoint === null) {
    if (!auth.endpointFromCatalog) throw new ControllerRequestError('no controller endpoint: give --endpoint or set compute.controller.endpoint');
    endpoint = await auth.endpointFromCatalog();
  }
  const url = `${endpoint.replace(/\/+$/, '')}${path}`;
  let res;
  try {
    res = await http({ method, url, headers: { 'User-Agent': 'masakari-cli' } });
  } catch (e) {
    throw new ControllerRequestError(`${method} ${url}: cannot reach the controller: ${errorMessage(e)}`, { cause: e });
  }
  if (res.status < 200 || res.status >= 300) throw new ControllerRequestError(`${method} ${url}: HTTP ${res.status}: ${faultMessage(res.text ?? '')}`);
  return res.body;
}
