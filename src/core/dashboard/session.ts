// Who is looking at the dashboard, and the cookies that say so.
//   - Session: under keystone the browser keeps the Keystone token in an HttpOnly, SameSite=Strict cookie scoped to
//     /dashboard (Secure when the request came over https). Script cannot read it, other sites cannot send it, and
//     it never appears in a URL, a page or a log line. Each request validates it like the API does (the
//     validator caches), so a revoked token stops working at once. Under noauth2 there is no session: everyone is
//     admin, as in the API.
//   - CSRF: double-submit. A random value in a second HttpOnly SameSite=Strict cookie; the server writes the same
//     value into every form it renders (a hidden field), and every POST must bring both, equal. SameSite=Strict
//     already stops cross-site posts in current browsers; the token also covers older ones and same-site
//     subdomains. The value is replaced at login, so one planted before the login is useless after it.

import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { CallerContext } from '../api/context.ts';
import type { PolicyEnforcer } from '../api/middleware/policy.ts';
import { TokenValidationError, type TokenValidator } from '../ports/identity.ts';

export const SESSION_COOKIE = 'masakari_session';
export const CSRF_COOKIE = 'masakari_csrf';
export const CSRF_FIELD = '_csrf';
export const COOKIE_PATH = '/dashboard';

export interface Viewer {
  caller: CallerContext;
  /** The Keystone token (keystone only): goes to the API in X-Auth-Token, nowhere else. */
  token: string | null;
  userName: string | null;
  projectName: string | null;
}

/** https as the browser sees it: the request URL, or X-Forwarded-Proto when proxy headers are believed. */
export function isHttps(c: Context, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && (c.req.header('x-forwarded-proto') ?? '').split(',')[0]!.trim().toLowerCase() === 'https';
}

function cookieOptions(secure: boolean, maxAgeSeconds?: number) {
  return { path: COOKIE_PATH, httpOnly: true, sameSite: 'Strict' as const, secure, ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}) };
}

export function setSession(c: Context, token: string, expiresAt: Date | null, secure: boolean, nowMs: number): void {
  const maxAge = expiresAt ? Math.max(0, Math.floor((expiresAt.getTime() - nowMs) / 1000)) : undefined;
  setCookie(c, SESSION_COOKIE, token, cookieOptions(secure, maxAge));
}

export function clearSession(c: Context, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(secure));
}

export function sessionToken(c: Context): string | null {
  const t = getCookie(c, SESSION_COOKIE);
  return t && /^[A-Za-z0-9_\-.~+/=]{1,8192}$/.test(t) ? t : null;
}

/** The request's CSRF value, creating (and setting) one when the browser has none yet. */
export function csrfToken(c: Context, secure: boolean): string {
  const have = getCookie(c, CSRF_COOKIE);
  if (have && /^[A-Za-z0-9_-]{43}$/.test(have)) return have;
  return renewCsrf(c, secure);
}

export function renewCsrf(c: Context, secure: boolean): string {
  const value = randomBytes(32).toString('base64url');
  setCookie(c, CSRF_COOKIE, value, cookieOptions(secure));
  return value;
}

/** True when the form's field equals the cookie (both present). */
export function csrfValid(c: Context, formValue: unknown): boolean {
  const cookie = getCookie(c, CSRF_COOKIE);
  if (!cookie || typeof formValue !== 'string' || formValue.length !== cookie.length) return false;
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(formValue));
}

export type ViewerResult = { kind: 'viewer'; viewer: Viewer } | { kind: 'login' } | { kind: 'unavailable'; message: string };

/** The viewer behind a request: noauth2 admin, or the identity of the session's Keystone token. */
export async function viewerOf(
  c: Context,
  strategy: 'noauth2' | 'keystone',
  policy: PolicyEnforcer,
  validator: TokenValidator | undefined,
): Promise<ViewerResult> {
  if (strategy === 'noauth2') {
    return {
      kind: 'viewer',
      viewer: { caller: { userId: 'admin', projectId: null, roles: ['admin'], isAdmin: true }, token: null, userName: null, projectName: null },
    };
  }
  const token = sessionToken(c);
  if (!token || !validator) return { kind: 'login' };
  try {
    const id = await validator.validate(token);
    return {
      kind: 'viewer',
      viewer: {
        caller: { userId: id.userId, projectId: id.projectId, roles: id.roles, isAdmin: policy.isAdmin(id.roles, id.userId, id.projectId) },
        token,
        userName: id.userName,
        projectName: id.projectName,
      },
    };
  } catch (e) {
    if (e instanceof TokenValidationError && e.kind === 'invalid') return { kind: 'login' };
    return { kind: 'unavailable', message: 'Keystone is temporarily unavailable: the session could not be checked. Try again shortly.' };
  }
}
