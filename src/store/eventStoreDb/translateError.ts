import {
  convertToCommandError,
  ErrorType,
  isCommandError,
  MaxAppendSizeExceededError,
  StreamDeletedError as ClientStreamDeletedError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import {
  AppendTooLargeError,
  type ExpectedRevision,
  StoreUnavailableError,
  StreamDeletedError,
  WrongExpectedRevisionError,
} from '../eventStore.ts';
import { toRevision } from './positions.ts';

/**
 * Client errors that mean "the node cannot serve this now": unreachable, restarting
 * (24.4+ servers cancel calls on shutdown), not the leader, timed out, or failing without
 * saying why. Retrying later may succeed.
 */
const TRANSIENT: ReadonlySet<string> = new Set([
  ErrorType.UNAVAILABLE,
  ErrorType.CANCELLED,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
  ErrorType.UNKNOWN,
]);

/**
 * Turns what `@eventstore/db-client` throws into the port's errors, so nothing above the
 * adapter sees a vendor type: a wrong expected version becomes `WrongExpectedRevisionError`,
 * a hard-deleted stream `StreamDeletedError`, an append over the server's `MaxAppendSize`
 * `AppendTooLargeError`, transient failures `StoreUnavailableError`. Anything else (access
 * denied, our own bugs) passes through unchanged: retrying it would not help.
 *
 * `append` names the stream and the revision the caller expected, so the error reports our
 * values rather than the client's.
 */
export function translateError(error: unknown, append?: { stream: string; expected: ExpectedRevision }, stream?: string): unknown {
  if (
    error instanceof WrongExpectedRevisionError ||
    error instanceof StoreUnavailableError ||
    error instanceof StreamDeletedError ||
    error instanceof AppendTooLargeError
  ) {
    return error;
  }
  const commandError = isGrpcError(error) ? convertToCommandError(error) : error;
  if (commandError instanceof WrongExpectedVersionError) {
    const actual = commandError.actualVersion === 'no_stream' ? 'no_stream' : toRevision(commandError.actualVersion);
    const stream = append?.stream ?? commandError.streamName;
    return new WrongExpectedRevisionError(stream, append?.expected ?? 'any', actual);
  }
  if (commandError instanceof ClientStreamDeletedError) {
    return new StreamDeletedError(append?.stream ?? stream ?? commandError.streamName ?? '(unknown)');
  }
  if (commandError instanceof MaxAppendSizeExceededError) {
    const limit = Number.isFinite(commandError.maxAppendSize) ? commandError.maxAppendSize : null;
    return new AppendTooLargeError(append?.stream ?? stream ?? '(unknown)', limit);
  }
  if (commandError instanceof Error && isCommandError(commandError) && TRANSIENT.has(commandError.type)) {
    return new StoreUnavailableError(`EventStoreDB is unavailable (${commandError.type}): ${commandError.message}`, {
      cause: commandError,
    });
  }
  return commandError;
}

function isGrpcError(error: unknown): error is Error & { code: number } {
  return error instanceof Error && !isCommandError(error) && typeof (error as { code?: unknown }).code === 'number';
}
