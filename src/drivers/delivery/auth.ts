// Tokens for the X-Auth-Token header of delivery to the controller: a fixed one (noauth2 controllers ignore it;
// masakari-monitors send "notused" style dummies too) or a Keystone v3 password-scoped token. The Keystone one is
// the shared KeystoneSession (../openstack/keystone.ts) with delivery's settings: no retry of its own (the outbox
// retries every failed send), one timeout per request, renewal five minutes before expiry.

import { realEnv, type Env } from '../../core/env.ts';
import type { Logger } from '../../core/log.ts';
import { timeoutInterceptor } from '../http/interceptors/timeout.ts';
import { compose, fetchHandler, type Handler, type OsRequest } from '../openstack/http.ts';
import type { TokenSource } from '../openstack/interceptors/auth.ts';
import { KeystoneSession } from '../openstack/keystone.ts';

export interface ControllerAuth extends TokenSource {
  /** The controller endpoint from the Keystone catalog, when the configuration does not name one. */
  endpointFromCatalog?(signal?: AbortSignal): Promise<string>;
}

/** A token that never changes: noauth2 controllers ignore it (masakari-monitors send "notused" style dummies). */
export class FixedToken implements ControllerAuth {
  constructor(private readonly value: string) {}
  async getToken(): Promise<{ id: string }> {
    return { id: this.value };
  }
  invalidate(): void {}
}

export interface KeystonePasswordOptions {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  regionName: string | null;
  interface: 'public' | 'internal' | 'admin';
  timeoutMs: number;
  env?: Env;
  logger?: Logger;
  /** The dispatcher at the bottom; default: Node's fetch. */
  dispatcher?: Handler;
}

/** Renew this long before Keystone's expires_at, so a token never expires in flight. */
const RENEW_MARGIN_MS = 5 * 60_000;

/** The catalog service type of Masakari's API. */
const CONTROLLER_SERVICE_TYPE = 'instance-ha';

export class KeystonePasswordAuth implements ControllerAuth {
  private readonly session: KeystoneSession;

  constructor(private readonly opts: KeystonePasswordOptions) {
    this.session = new KeystoneSession({
      authUrl: opts.authUrl,
      auth: {
        type: 'password',
        username: opts.username,
        password: opts.password,
        userDomainName: opts.userDomainName,
        projectName: opts.projectName,
        projectDomainName: opts.projectDomainName,
      },
      http: compose<OsRequest>(opts.dispatcher ?? fetchHandler, timeoutInterceptor(opts.timeoutMs)),
      env: opts.env ?? realEnv,
      refreshMarginMs: RENEW_MARGIN_MS,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  }

  getToken(signal?: AbortSignal): Promise<{ id: string }> {
    return this.session.getToken(signal);
  }

  invalidate(tokenId: string): void {
    this.session.invalidate(tokenId);
  }

  endpointFromCatalog(signal?: AbortSignal): Promise<string> {
    return this.session.endpoint(CONTROLLER_SERVICE_TYPE, { interface: this.opts.interface, region: this.opts.regionName }, signal);
  }
}
