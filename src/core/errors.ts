// One error convention for the whole code base (undici's errors.js is the model): every error class we throw for a
// condition a caller may handle extends AppError and carries a stable string `code`. Callers branch on `code` (or
// on the class), never on the message; messages are for people and may change. Every code is listed, with its
// meaning, in docs/errors.md; test/errors/codes.test.ts keeps that list and the code base in step.

export abstract class AppError extends Error {
  /** Stable, documented, UPPER_SNAKE_CASE (or a documented sub-code family, e.g. OpenStackError's). */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // The subclass's own name, so logs and stack traces say which error this is without a per-class assignment.
    this.name = new.target.name;
  }
}

/** The message of anything thrown: an Error's message, or the thrown value as text (a string, a rejected number). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** The `code` of an AppError (or of a Node system error such as ENOENT), or undefined. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
