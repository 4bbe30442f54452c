// Builds the OpenStack client from the `openstack:` config section: a Keystone session and one handler made of
// interceptors (retry, timeout and log are the shared ones of ../http; endpoint, auth and microversion are
// OpenStack's). Order, outermost first: retry -> endpoint -> auth -> microversion -> timeout -> log -> fetch.
// Retry is outermost so a retried attempt gets a fresh token, endpoint and timeout; log is innermost so every
// attempt on the wire is logged with its own request id.

import type { OpenstackConfig } from '../../core/config/sections/openstack.ts';
import { realEnv, type Env } from '../../core/env.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import { OpenStackError } from './errors.ts';
import { logInterceptor } from '../http/interceptors/log.ts';
import { retryInterceptor } from '../http/interceptors/retry.ts';
import { timeoutInterceptor } from '../http/interceptors/timeout.ts';
import { closingInterceptor } from '../http/interceptors/closing.ts';
import { HttpClientError } from '../http/errors.ts';
import { compose, fetchHandler, type Handler, type OsRequest } from './http.ts';
import { authInterceptor } from './interceptors/auth.ts';
import { endpointInterceptor } from './interceptors/endpoint.ts';
import { MicroversionNegotiator } from './interceptors/microversion.ts';
import { KeystoneSession, type KeystoneAuth } from './keystone.ts';

/** The compute microversion the Nova driver cannot do without: os-services addressed by UUID (2.53). */
export const NOVA_MIN_MICROVERSION = '2.53';

export interface OpenStackClient {
  /** Requests to OpenStack services: `{service: 'compute', url: '/servers/detail'}`. */
  request: Handler;
  session: KeystoneSession;
  compute: MicroversionNegotiator;
  /** Aborts every request in flight (Keystone's too) and refuses new ones: the controller is stopping. */
  close(): void;
}

export interface ClientDeps {
  env?: Env;
  logger?: Logger;
  /** The dispatcher at the bottom (tests may wrap fetch); default: Node's fetch. */
  dispatcher?: Handler;
}

function keystoneAuth(c: OpenstackConfig): KeystoneAuth {
  if (c.auth_type === 'password') {
    return {
      type: 'password',
      username: c.username,
      userId: c.user_id,
      password: c.password ?? '',
      userDomainName: c.user_domain_name,
      userDomainId: c.user_domain_id,
      projectName: c.project_name,
      projectId: c.project_id,
      projectDomainName: c.project_domain_name,
      projectDomainId: c.project_domain_id,
    };
  }
  return {
    type: 'v3applicationcredential',
    id: c.application_credential_id,
    name: c.application_credential_name,
    secret: c.application_credential_secret ?? '',
    username: c.username,
    userId: c.user_id,
    userDomainName: c.user_domain_name,
    userDomainId: c.user_domain_id,
  };
}

export function createOpenStackClient(c: OpenstackConfig, deps: ClientDeps = {}): OpenStackClient {
  if (!c.auth_url) throw new OpenStackError('auth', 'openstack.auth_url is not set: the Nova driver needs Keystone');
  const env = deps.env ?? realEnv;
  const logger = (deps.logger ?? silentLogger).child({ component: 'openstack' });
  const base = deps.dispatcher ?? fetchHandler;
  const retry = retryInterceptor({
    retries: c.retries,
    baseDelayMs: c.retry_delay * 1000,
    maxDelayMs: c.retry_max_delay * 1000,
    env,
    logger,
    message: 'openstack request failed; retrying',
  });
  const timeout = timeoutInterceptor(c.timeout * 1000);
  const log = logInterceptor(logger, () => env.nowMs(), 'openstack call');
  const closingCtl = new AbortController();
  const closing = closingInterceptor(closingCtl.signal);

  // Keystone's own calls: no token, no endpoint lookup.
  const keystoneHttp = compose<OsRequest>(base, closing, retry, timeout, log);
  const session = new KeystoneSession({
    authUrl: c.auth_url,
    auth: keystoneAuth(c),
    http: keystoneHttp,
    env,
    refreshMarginMs: c.token_refresh_margin * 1000,
    logger,
  });
  const compute = new MicroversionNegotiator({
    service: 'compute',
    headerName: 'compute',
    min: NOVA_MIN_MICROVERSION,
    max: c.nova.max_microversion,
    legacyHeader: 'X-OpenStack-Nova-API-Version',
  });
  const overrides: Record<string, string> = c.compute_endpoint_override ? { compute: c.compute_endpoint_override } : {};
  const request = compose<OsRequest>(
    base,
    closing,
    retry,
    endpointInterceptor(session, { interface: c.interface, region: c.region_name }, overrides),
    authInterceptor(session),
    compute.interceptor,
    timeout,
    log,
  );
  const close = () => {
    if (!closingCtl.signal.aborted) closingCtl.abort(new HttpClientError('aborted', 'the OpenStack client was closed (masakari is stopping)'));
  };
  return { request, session, compute, close };
}
