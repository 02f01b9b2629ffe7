import type { Logger } from 'pino';

/**
 * A warning that is logged at most once per `intervalMs` (defaults to 10 s), with the
 * number of occurrences left unlogged since the last line as `suppressed`. A dead service
 * fails every send; this keeps that to one log line per interval instead of four per event.
 */
export function throttledWarning(logger: Logger, message: string, intervalMs = 10_000): (fields: Record<string, unknown>) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (fields) => {
    const now = Date.now();
    if (now - lastAt < intervalMs) {
      suppressed += 1;
      return;
    }
    logger.warn({ ...fields, suppressed }, message);
    lastAt = now;
    suppressed = 0;
  };
}
