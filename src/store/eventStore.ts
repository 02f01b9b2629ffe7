import { UnavailableError } from '../errors.ts';
import type { GlobalPosition } from './position.ts';

/**
 * The event store port. Shaped after EventStoreDB/KurrentDB semantics so that every
 * adapter (embedded SQLite, EventStoreDB over gRPC) can be swapped without touching callers:
 * streams with contiguous 0-based revisions, optimistic concurrency on the expected
 * revision, client-chosen event ids, and a store-wide ordered log (`$all`) that can be read
 * and subscribed to from a position with a stream-prefix filter.
 *
 * Every adapter must pass `test/store/eventStoreContract.ts`.
 */
export interface EventStore {
  /**
   * Appends events to one or more streams. Each append states the revision it expects
   * the stream to be at. On the embedded store the whole call commits atomically; on
   * engines without multi-stream transactions the streams are appended in order and a
   * retried call is idempotent through the event ids.
   *
   * Resolves only once the events are durable. Rejects with `WrongExpectedRevisionError`
   * when any stream is not at its expected revision (nothing is written on the embedded
   * store), or `StoreUnavailableError` when the engine cannot be reached. An engine that
   * writes stream by stream rejects a call that failed after writing some streams with
   * `PartialAppendError`, which says which were written, so that a caller never decides and
   * appends those again.
   */
  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult[]>;

  /**
   * Reads a stream forwards from `fromRevision` (inclusive, default 0), at most
   * `maxCount` events. An absent stream reads as empty.
   */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;

  /** Revision of the last event of a stream, or `null` when the stream does not exist. */
  streamRevision(stream: string): Promise<number | null>;

  /** Reads `$all` forwards, strictly after `after` (default: from the start). */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;

  /**
   * Follows `$all` strictly after `from` (`'start'` for everything, `'end'` for only
   * what is appended from now on): catch-up first, then live. Pull-based, so a slow
   * consumer slows the reads instead of growing a buffer.
   */
  subscribeToAll(options: SubscribeToAllOptions): AllSubscription;

  /**
   * The position of the newest record in `$all`, or `null` for an empty store. Every position
   * the store issues — an event's or a subscription checkpoint's — is at or before it, so a
   * resume point after it was not issued by this store. On an engine that writes records of
   * its own (EventStoreDB) the head may be such a record.
   */
  headPosition(): Promise<GlobalPosition | null>;

  close(): Promise<void>;
}

export interface NewEvent {
  /** UUID; adapters use it to make a retried append idempotent. */
  readonly id: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface RecordedEvent {
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly position: GlobalPosition;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly recordedAt: Date;
}

/**
 * - a number: the stream's last revision must be exactly this;
 * - `'no_stream'`: the stream must not exist;
 * - `'stream_exists'`: the stream must have at least one event;
 * - `'any'`: no check.
 */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

export interface StreamAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly expectedRevision: ExpectedRevision;
}

export interface AppendResult {
  readonly stream: string;
  /** Revision of the last event now in the stream. */
  readonly nextExpectedRevision: number;
  /** Position of the last event written (of the existing ones on an idempotent retry). */
  readonly position: GlobalPosition;
  /** Revision and position of every event of the append, in order. */
  readonly written: readonly { readonly revision: number; readonly position: GlobalPosition }[];
}

export interface ReadStreamOptions {
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface StreamFilter {
  /** Only streams whose name starts with one of these prefixes. */
  readonly streamNamePrefixes: readonly string[];
}

export interface ReadAllOptions {
  readonly after?: GlobalPosition | 'start';
  readonly maxCount?: number;
  readonly filter?: StreamFilter;
}

export interface SubscribeToAllOptions {
  readonly from: GlobalPosition | 'start' | 'end';
  readonly filter?: StreamFilter;
}

export type AllSubscriptionItem =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  /** Everything that existed when the subscription started has been delivered. */
  | { readonly kind: 'caughtUp'; readonly position: GlobalPosition | null }
  /** Events up to `position` were examined (some may have been filtered out). */
  | { readonly kind: 'checkpoint'; readonly position: GlobalPosition };

export interface AllSubscription extends AsyncIterable<AllSubscriptionItem> {
  /** Ends the subscription; a pending iteration finishes. Idempotent. */
  close(): Promise<void>;
}

/** The stream is not at the revision the caller expected. */
export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/**
 * The engine cannot be reached or failed; the operation may be retried later. An
 * `UnavailableError`, so any request that meets it answers 503 with Retry-After.
 */
export class StoreUnavailableError extends UnavailableError {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The stream was deleted for good in the engine (an EventStoreDB hard delete); it can be neither read nor appended to. */
export class StreamDeletedError extends Error {
  override readonly name = 'StreamDeletedError';
  constructor(readonly stream: string) {
    super(`stream ${stream} was deleted from the event store`);
  }
}

/** One stream's append is larger than the engine accepts at once (EventStoreDB `MaxAppendSize`). */
export class AppendTooLargeError extends Error {
  override readonly name = 'AppendTooLargeError';
  constructor(
    readonly stream: string,
    /** The engine's limit in bytes, when it said. */
    readonly maxAppendSize: number | null,
  ) {
    super(`stream ${stream}: the append exceeds the event store's maximum append size${maxAppendSize === null ? '' : ` (${maxAppendSize} bytes)`}`);
  }
}

/**
 * Some streams of a multi-stream append were written before another failed (engines without
 * multi-stream transactions). `written` holds the results of the first `written.length`
 * appends, in call order; `cause` is the failure of the next one (`WrongExpectedRevisionError`,
 * `StoreUnavailableError`, …); the appends after it were not attempted.
 */
export class PartialAppendError extends Error {
  override readonly name = 'PartialAppendError';
  constructor(
    readonly written: readonly AppendResult[],
    override readonly cause: unknown,
  ) {
    super(`${written.length} stream(s) written before an append failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export async function appendToStream(
  store: EventStore,
  stream: string,
  events: readonly NewEvent[],
  expectedRevision: ExpectedRevision,
): Promise<AppendResult> {
  const [result] = await store.appendToStreams([{ stream, events, expectedRevision }]);
  return result!;
}

/** Collects an async iterable of events; for bounded reads only. */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of source) items.push(item);
  return items;
}
