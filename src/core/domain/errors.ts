// Errors a user can see. Each carries the HTTP status and the envelope key Masakari uses,
// so any layer can throw one and the API turns it into {"<key>": {"code", "message"}}.

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

export class MasakariError extends Error {
  constructor(
    readonly status: number,
    readonly key: FaultKey,
    message: string,
  ) {
    super(message);
    this.name = 'MasakariError';
  }
}

export const badRequest = (message: string) => new MasakariError(400, 'badRequest', message);
export const notFound = (message: string) => new MasakariError(404, 'itemNotFound', message);
export const conflict = (message: string) => new MasakariError(409, 'conflictingRequest', message);

/** Store-level marker error: the list marker does not name an existing row. */
export class MarkerNotFoundError extends MasakariError {
  constructor(marker: string) {
    super(400, 'badRequest', `Marker ${marker} could not be found.`);
  }
}
