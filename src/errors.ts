/**
 * The application's error vocabulary. Nothing here knows HTTP; `src/api/problemDetails.ts`
 * is the one place that turns these into responses.
 */
export abstract class AppError extends Error {
  abstract readonly kind: string;
}

export interface FieldError {
  /** Index of the message in a batch, when the body held several. */
  readonly index?: number;
  /** Dotted path of the offending field, e.g. `messages.3.progress`. */
  readonly path: string;
  readonly message: string;
}

/** The input is malformed; `errors` names each offending field. */
export class ValidationError extends AppError {
  readonly kind = 'validation';
  constructor(
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

/** No valid credentials. Never carries the token. */
export class UnauthorizedError extends AppError {
  readonly kind = 'unauthorized';
}

/** Valid credentials, but a role is missing. */
export class ForbiddenError extends AppError {
  readonly kind = 'forbidden';
}

/** Absent, or not visible to the caller (the two are never told apart). */
export class NotFoundError extends AppError {
  readonly kind = 'not-found';
}

export class ConflictError extends AppError {
  readonly kind = 'conflict';
}

export class PayloadTooLargeError extends AppError {
  readonly kind = 'payload-too-large';
}

export class UnsupportedMediaTypeError extends AppError {
  readonly kind = 'unsupported-media-type';
}

/** The caller holds as much as one user may (connections, subscriptions); nothing was opened. */
export class TooManyRequestsError extends AppError {
  readonly kind = 'too-many-requests';
}

/** A dependency (the store) failed; nothing was changed and the call may be retried. */
export class UnavailableError extends AppError {
  readonly kind = 'unavailable';
}
