import { pino, type Logger } from 'pino';

/** Silent unless `TEST_LOG_LEVEL` is set (e.g. `TEST_LOG_LEVEL=debug`). */
export function testLogger(): Logger {
  return pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
}
