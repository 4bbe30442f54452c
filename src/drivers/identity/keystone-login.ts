// The dashboard's login: a person's user, password, project and domain become a project-scoped Keystone token
// (POST /v3/auth/tokens through the one Keystone client, ../openstack/keystone.ts). One KeystoneSession per login,
// dropped afterwards: the token belongs to the browser (its cookie), not to this process. Nothing here logs the
// password or the token; the session logs the user and project ids of the token it got.

import { realEnv, type Env } from '../../core/env.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { LoginError, type IssuedToken, type PasswordCredentials, type PasswordLogin } from '../../core/ports/identity.ts';
import { logInterceptor } from '../http/interceptors/log.ts';
import { timeoutInterceptor } from '../http/interceptors/timeout.ts';
import { OpenStackError } from '../openstack/errors.ts';
import { compose, fetchHandler, type OsRequest } from '../openstack/http.ts';
import { KeystoneSession } from '../openstack/keystone.ts';

export interface KeystoneLoginOptions {
  auth_url: string;
  timeout_seconds: number;
}

export class KeystonePasswordLogin implements PasswordLogin {
  constructor(
    private readonly opts: KeystoneLoginOptions,
    private readonly log: Logger,
    private readonly env: Env = realEnv,
  ) {}

  async login(c: PasswordCredentials): Promise<IssuedToken> {
    const nowMs = () => this.env.nowMs();
    const http = compose<OsRequest>(fetchHandler, timeoutInterceptor(this.opts.timeout_seconds * 1000), logInterceptor(this.log, nowMs, 'keystone call'));
    const session = new KeystoneSession({
      authUrl: this.opts.auth_url,
      auth: { type: 'password', username: c.user, password: c.password, userDomainName: c.domain, projectName: c.project, projectDomainName: c.domain },
      http,
      env: this.env,
      refreshMarginMs: 0,
      logger: this.log,
    });
    try {
      const t = await session.getToken();
      return { token: t.id, expiresAt: Number.isFinite(t.expiresAtMs) ? new Date(t.expiresAtMs) : null };
    } catch (e) {
      // Keystone answers 401 for a wrong password, user, project or domain alike (it does not say which).
      if (e instanceof OpenStackError && (e.code === 'auth' || e.status === 401 || e.status === 400 || e.status === 404)) {
        throw new LoginError('refused', 'Keystone did not accept this user, password, project and domain.', { cause: e });
      }
      throw new LoginError('unavailable', `Keystone could not be asked: ${errorMessage(e)}`, { cause: e });
    }
  }
}
