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
