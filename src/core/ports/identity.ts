// Token validation for the API's keystone auth strategy. core owns this interface; src/drivers/identity/keystone.ts
// implements it against Keystone v3 (GET /v3/auth/tokens), as keystonemiddleware's auth_token does.

import { AppError } from '../errors.ts';

export interface Identity {
  userId: string;
  userName: string | null;
  /** Project the token is scoped to; null for unscoped or domain-scoped tokens. */
  projectId: string | null;
  projectName: string | null;
  roles: string[];
  expiresAt: Date | null;
}

/** Why a token was not accepted: `invalid` answers 401, `unavailable` answers 503 (Keystone could not be asked). */
export class TokenValidationError extends AppError {
  readonly code: 'TOKEN_INVALID' | 'TOKEN_VALIDATION_UNAVAILABLE';

  constructor(
    readonly kind: 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.code = kind === 'invalid' ? 'TOKEN_INVALID' : 'TOKEN_VALIDATION_UNAVAILABLE';
  }
}

export interface TokenValidator {
  /** Resolves the identity behind `token`, or throws TokenValidationError. */
  validate(token: string): Promise<Identity>;
  /** Where clients authenticate (keystonemiddleware's www_authenticate_uri), for the WWW-Authenticate header. */
  readonly wwwAuthenticateUri: string;
}

/** What a person types into the dashboard's login form (Keystone v3 password authentication, project scope). */
export interface PasswordCredentials {
  user: string;
  password: string;
  project: string;
  /** Domain of both the user and the project (the form has one field, like Horizon's). */
  domain: string;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date | null;
}

/** Why a login did not give a token: `refused` (wrong credentials: 401), `unavailable` (Keystone not reachable: 503). */
export class LoginError extends AppError {
  readonly code: 'LOGIN_REFUSED' | 'LOGIN_UNAVAILABLE';

  constructor(
    readonly kind: 'refused' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = kind === 'refused' ? 'LOGIN_REFUSED' : 'LOGIN_UNAVAILABLE';
  }
}

/** Obtains a project-scoped token for a person (the dashboard's login); src/drivers/identity/keystone-login.ts. */
export interface PasswordLogin {
  login(credentials: PasswordCredentials): Promise<IssuedToken>;
}
