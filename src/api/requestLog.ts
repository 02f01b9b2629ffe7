import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

/**
 * Logs each request when it finishes: method, path **without the query string** (stream
 * tokens travel there), status and duration. Long-lived streams are logged when they end.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'warn' : 'debug';
      logger[level]({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
