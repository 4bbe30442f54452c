// Errors a user can see. Each carries the HTTP status and the envelope key Masakari uses,
// so any layer can throw one and the API turns it into {"<key>": {"code", "message"}}.
// The envelope's "code" is the HTTP status (Masakari's wire format); the error's own `code` (AppError's stable
// string, docs/errors.md) is the key in UPPER_SNAKE_CASE behind API_, for logs and for callers that branch.

import { AppError } from '../errors.ts';

export type FaultKey =
  | 'badRequest'
  | 'itemNotFound'
  | 'badMethod'
  | 'conflictingRequest'
  | 'badMediaType'
  | 'requestEntityTooLarge'
  | 'unauthorized'
  | 'forbidden'
  | 'overLimit'
  | 'serviceUnavailable'
  | 'masakariFault';

export type MasakariErrorCode =
  | 'API_BAD_REQUEST'
  | 'API_ITEM_NOT_FOUND'
  | 'API_BAD_METHOD'
  | 'API_CONFLICTING_REQUEST'
  | 'API_BAD_MEDIA_TYPE'
  | 'API_REQUEST_ENTITY_TOO_LARGE'
  | 'API_UNAUTHORIZED'
  | 'API_FORBIDDEN'
  | 'API_OVER_LIMIT'
  | 'API_SERVICE_UNAVAILABLE'
  | 'API_MASAKARI_FAULT'
  | 'API_MARKER_NOT_FOUND';

const CODE_OF_KEY: Record<FaultKey, MasakariErrorCode> = {
  badRequest: 'API_BAD_REQUEST',
  itemNotFound: 'API_ITEM_NOT_FOUND',
  badMethod: 'API_BAD_METHOD',
  conflictingRequest: 'API_CONFLICTING_REQUEST',
  badMediaType: 'API_BAD_MEDIA_TYPE',
  requestEntityTooLarge: 'API_REQUEST_ENTITY_TOO_LARGE',
  unauthorized: 'API_UNAUTHORIZED',
  forbidden: 'API_FORBIDDEN',
  overLimit: 'API_OVER_LIMIT',
  serviceUnavailable: 'API_SERVICE_UNAVAILABLE',
  masakariFault: 'API_MASAKARI_FAULT',
};

export class MasakariError extends AppError {
  readonly code: MasakariErrorCode;

  constructor(
    readonly status: number,
    readonly key: FaultKey,
    message: string,
    code: MasakariErrorCode = CODE_OF_KEY[key],
  ) {
    super(message);
    this.code = code;
  }
}

export const badRequest = (message: string) => new MasakariError(400, 'badRequest', message);
export const notFound = (message: string) => new MasakariError(404, 'itemNotFound', message);
export const conflict = (message: string) => new MasakariError(409, 'conflictingRequest', message);

/** Store-level marker error: the list marker does not name an existing row. */
export class MarkerNotFoundError extends MasakariError {
  constructor(marker: string) {
    super(400, 'badRequest', `Marker ${marker} could not be found.`, 'API_MARKER_NOT_FOUND');
  }
}
