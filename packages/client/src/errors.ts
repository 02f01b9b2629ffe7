/**
 * Why a call or a connection failed, in the terms a caller acts on:
 * - `not-found`: the job does not exist or is not visible to the user (the service does not say which);
 * - `unauthorized`: the user token was refused (sign in again);
 * - `forbidden`: the user may not do this;
 * - `invalid`: the service refused the request as malformed (e.g. a job id with bad characters);
 * - `unavailable`: the network or the service failed; retrying may help.
 */
export type StatuscastErrorKind = 'not-found' | 'unauthorized' | 'forbidden' | 'invalid' | 'unavailable';

export class StatuscastError extends Error {
  override readonly name = 'StatuscastError';
  constructor(
    readonly kind: StatuscastErrorKind,
    message: string,
    /** The HTTP status, when an answer came; `0` when the network failed first. */
    readonly status = 0,
  ) {
    super(message);
  }

  /** True when only a change on the caller's side (sign in, another job) can help. */
  get permanent(): boolean {
    return this.kind !== 'unavailable';
  }
}

/** The error kind an HTTP status stands for. */
export function kindOfStatus(status: number): StatuscastErrorKind {
  if (status === 404) return 'not-found';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 400 || status === 422) return 'invalid';
  return 'unavailable';
}

/** Any thrown value as a `StatuscastError` (unknown failures count as `unavailable`). */
export function asStatuscastError(error: unknown): StatuscastError {
  if (error instanceof StatuscastError) return error;
  return new StatuscastError('unavailable', errorText(error));
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
