import { type Logger, pino } from 'pino';

/**
 * The service logger. Tokens never reach it: request logs carry the path without the query
 * string (where `access_token` travels), and these paths are redacted in case a header
 * object is ever logged whole.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'statuscast' },
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          'authorization',
          'token',
          'accessToken',
          'access_token',
          '*.token',
          '*.accessToken',
          '*.access_token',
        ],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
