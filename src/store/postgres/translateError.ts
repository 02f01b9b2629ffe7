import pg from 'pg';
import { StoreUnavailableError, WrongExpectedRevisionError } from '../eventStore.ts';

/**
 * SQLSTATE classes and codes that mean "the database cannot serve this now; later it may":
 * connection exceptions (08), insufficient resources (53: too many connections, disk full),
 * operator intervention (57: terminated backend, shutdown, statement timeout, cannot
 * connect now), system errors (58), a database that is not there or refuses connections,
 * and a deadlock victim (retrying is the cure).
 */
const TRANSIENT_CLASSES = new Set(['08', '53', '57', '58']);
const TRANSIENT_CODES = new Set(['3D000', '55000', '40P01', '40001']);

/** Whether a failure is one that retrying later may cure. */
export function isTransient(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    return TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_CODES.has(code);
  }
  if (!(error instanceof Error)) return false;
  // Not a server answer: a refused or reset connection, a DNS failure, the pool's acquire
  // timeout, the client's query timeout, or a connection that ended mid-query.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return CLIENT_SIDE_FAILURES.test(error.message);
}

/** Messages node-postgres and its pool use for connections that failed or went away. */
const CLIENT_SIDE_FAILURES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed|Connection is closed|Cannot use a pool after calling end/i;

/**
 * Turns what `pg` throws into the port's errors at the adapter's edge: transient failures
 * become `StoreUnavailableError` (503 with Retry-After, a retried subscription); anything
 * else (a bug, a constraint we did not expect) passes through unchanged.
 */
export function translateError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof WrongExpectedRevisionError) return error;
  if (!isTransient(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`PostgreSQL is unavailable: ${message}`, { cause: error });
}

/** A unique index refused a row: two appends raced for the same event id. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code === '23505';
}
