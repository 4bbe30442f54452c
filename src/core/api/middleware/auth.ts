// Who is calling. noauth2 (Masakari's NoAuthMiddleware): no credentials needed, everyone is admin, the project is
// None. keystone (keystonemiddleware's auth_token): X-Auth-Token is validated by a TokenValidator; a missing or
// invalid token gets keystonemiddleware's 401 body and a WWW-Authenticate header pointing at Keystone.

import type { Context, MiddlewareHandler } from 'hono';
import { MasakariError, badRequest } from '../../domain/errors.ts';
import type { Logger } from '../../log.ts';
import { TokenValidationError, type TokenValidator } from '../../ports/identity.ts';
import type { ApiEnv, CallerContext } from '../context.ts';
import { projectInUrl } from '../routing-path.ts';
import { JSON_ERROR_TYPE } from './faults.ts';
import type { PolicyEnforcer } from './policy.ts';
import { requestHeader } from '../request-header.ts';

function noauth2(c: Context<ApiEnv>): CallerContext {
  const user = requestHeader(c, 'x-user-id') ?? requestHeader(c, 'x-user') ?? 'admin';
  return { userId: user, projectId: null, roles: ['admin'], isAdmin: true };
}

function unauthorized(c: Context<ApiEnv>, validator: TokenValidator): Response {
  const body = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };
  return c.body(JSON.stringify(body), 401, {
    'Content-Type': JSON_ERROR_TYPE,
    'WWW-Authenticate': `Keystone uri="${validator.wwwAuthenticateUri}"`,
  });
}

export function authenticate(
  strategy: 'noauth2' | 'keystone',
  deps: { validator?: TokenValidator; policy: PolicyEnforcer; log: Logger },
): MiddlewareHandler<ApiEnv> {
  if (strategy === 'noauth2') {
    return async (c, next) => {
      c.set('caller', noauth2(c));
      await next();
    };
  }
  const validator = deps.validator;
  if (!validator) throw new Error('api.auth_strategy is keystone but no token validator was given');
  return async (c, next) => {
    const token = requestHeader(c, 'x-auth-token');
    if (!token) return unauthorized(c, validator);
    try {
      const id = await validator.validate(token);
      c.set('caller', {
        userId: id.userId,
        projectId: id.projectId,
        roles: id.roles,
        isAdmin: deps.policy.isAdmin(id.roles, id.userId, id.projectId),
      });
    } catch (e) {
      if (e instanceof TokenValidationError && e.kind === 'invalid') {
        deps.log.info({ requestId: c.get('requestId'), reason: e.message }, 'rejecting request: token not valid');
        return unauthorized(c, validator);
      }
      deps.log.error({ requestId: c.get('requestId'), err: e }, 'unable to validate token');
      throw new MasakariError(503, 'serviceUnavailable', 'The Keystone service is temporarily unavailable.');
    }
    await next();
  };
}

/**
 * URLs of the form /v1/{project_id}/...: the project must be the caller's (Masakari compares it with the request
 * context, which under noauth2 has no project, so such URLs always fail there).
 */
export function checkUrlProject(c: Context<ApiEnv>): void {
  const p = projectInUrl(c.req.url);
  if (p === undefined) return;
  const own = c.get('caller').projectId;
  if (p !== own) {
    throw badRequest(`Malformed request URL: URL's project_id '${p}' doesn't match Context's project_id '${own ?? 'None'}'`);
  }
}
