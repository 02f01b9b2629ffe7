import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { StreamDeletedError } from '../store/eventStore.ts';
import {
  AppError,
  type FieldError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.ts';

/** An RFC 9457 problem document. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly FieldError[];
}

const BY_KIND: Record<string, { status: number; title: string }> = {
  validation: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
};

const TYPE_BASE = 'https://statuscast.dev/problems/';

/** The one place where errors become HTTP answers (style principle 5). */
export function toProblem(error: unknown): Problem {
  const known = asAppError(error);
  if (known) {
    const { status, title } = BY_KIND[known.kind] ?? { status: 500, title: 'Internal error' };
    return {
      type: `${TYPE_BASE}${known.kind}`,
      title,
      status,
      detail: known.message,
      ...(known instanceof ValidationError && known.errors.length > 0 && { errors: known.errors }),
    };
  }
  return { type: `${TYPE_BASE}internal`, title: 'Internal error', status: 500, detail: 'An unexpected error occurred.' };
}

export function sendProblem(res: Response, error: unknown): void {
  const problem = toProblem(error);
  if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="statuscast"');
  if (problem.status === 503) res.setHeader('Retry-After', '1');
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/**
 * The same answer on a bare node response (the stream requests served before express),
 * byte for byte what `sendProblem` writes.
 */
export function writeProblem(res: ServerResponse, error: unknown): void {
  const problem = toProblem(error);
  const body = JSON.stringify(problem);
  res.statusCode = problem.status;
  if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="statuscast"');
  if (problem.status === 503) res.setHeader('Retry-After', '1');
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * A bare request's failure: logged when it is the service's fault (≥ 500), answered with
 * the problem document while nothing is sent yet, otherwise the half-sent response is cut.
 */
export function failBareRequest(logger: Logger, req: IncomingMessage, res: ServerResponse, path: string, error: unknown): void {
  if (toProblem(error).status >= 500) logger.error({ err: error, method: req.method, path }, 'request failed');
  if (res.headersSent) res.destroy();
  else writeProblem(res, error);
}

/** Translates body-parser failures (broken JSON, too large, wrong charset) into our errors. */
function asAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  // A job hard-deleted in the store reads as no job at all (and never tells whose it was).
  if (error instanceof StreamDeletedError) return new NotFoundError('No such job.');
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch ((error as { type: unknown }).type) {
    case 'entity.parse.failed':
      return new ValidationError('The request body is not valid JSON.', [{ path: '', message: 'malformed JSON' }]);
    case 'entity.too.large':
      return new PayloadTooLargeError('The request body exceeds the 1 MiB limit.');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new UnsupportedMediaTypeError('The request body must be UTF-8 JSON.');
    case 'request.aborted':
      return new ValidationError('The request was aborted by the client.');
    default:
      return undefined;
  }
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const problem = toProblem(error);
    if (problem.status >= 500) logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, error);
  };
}
