import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

/**
 * Logs each request when it finishes: method, path **without the query string** (stream
 * tokens travel there), status and duration. Long-lived streams are logged when they end.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    logRequestWhenDone(logger, req, res, req.path);
    next();
  };
}

/** The same line for a request served on the bare node request (before express). */
export function logRequestWhenDone(logger: Logger, req: IncomingMessage, res: ServerResponse, path: string): void {
  const started = process.hrtime.bigint();
  res.once('close', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const level = res.statusCode >= 500 ? 'warn' : 'debug';
    logger[level]({ method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
  });
}
