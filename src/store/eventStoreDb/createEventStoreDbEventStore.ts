import { EventStoreDBClient } from '@eventstore/db-client';
import { type AllSubscription, type EventStore, StoreUnavailableError } from '../eventStore.ts';
import { appendToStreamsWithClient } from './appendToStreams.ts';
import { toClientConnectionString } from './connectionString.ts';
import { followAll } from './followAll.ts';
import { headPositionFromClient } from './headPosition.ts';
import { readAllWithClient } from './readAll.ts';
import { readStreamFromClient, streamRevisionFromClient } from './readStream.ts';
import { findTruncatingStreams, type TruncatingSettings } from './findTruncatingStreams.ts';
import type { SkippedRecord } from './toRecordedEvent.ts';

export type { SkippedRecord, TruncatingSettings };

export interface EventStoreDbEventStoreOptions {
  /**
   * Where the node or cluster is, in the client's format: `esdb://host:2113?tls=false`,
   * `esdb+discover://…` for a cluster, or the same with `kurrentdb://` / `kdb://`.
   * TLS, credentials, node preference and deadlines are all set here.
   */
  readonly connectionString: string;
  /** Delay before resubscribing after a subscription drops; doubles per failed retry. Defaults to 100 ms. */
  readonly resubscribeDelayMs?: number;
  /** Upper bound of the resubscribe delay. Defaults to 5 s. */
  readonly maxResubscribeDelayMs?: number;
  /**
   * Failed resubscriptions in a row after which a subscription ends with
   * `StoreUnavailableError`. Defaults to unlimited: a subscription outlives a server restart.
   */
  readonly maxResubscribeAttempts?: number;
  /**
   * Told of every record a `$all` read or subscription passed over because it is not a
   * statuscast event: a hard delete's `$streamDeleted` tombstone, metadata, bytes written by
   * someone else under a matching stream name. Defaults to ignoring them.
   */
  readonly onSkippedRecord?: (record: SkippedRecord) => void;
  /**
   * Checks once, in the background after connecting, which streams under these prefixes
   * carry truncating metadata (`$maxCount`, `$maxAge`, `$tb`): their events expire, so
   * replay by revision is no longer complete. `report` gets every such stream (an empty
   * map when there are none); a failed check is reported as `Error`. Defaults to no check.
   */
  readonly retentionCheck?: {
    readonly streamNamePrefixes: readonly string[];
    report(outcome: Map<string, TruncatingSettings> | Error): void;
  };
}

/**
 * The event store port on EventStoreDB/KurrentDB (23.10 or later), through
 * `@eventstore/db-client`.
 *
 * - Appends carry the caller's event ids and expected revision; several streams are written
 *   one after the other (no multi-stream transaction), and a retried call is idempotent
 *   through the event ids.
 * - `{commit, prepare}` positions map one to one onto ours, as bigints.
 * - `readAll` and `subscribeToAll` filter on the server by stream-name prefix; without a
 *   filter they exclude the server's own (`$`-typed) events. `headPosition` is the newest
 *   record of any kind, since the server issues checkpoints at its own records too.
 *   Records under a matching name that statuscast did not write (tombstones, bytes) are
 *   passed over and reported to `onSkippedRecord`.
 * - Subscriptions resume after a drop from the last position they delivered.
 *
 * Read models and their checkpoints do not live here: with this store each node keeps its
 * own (embedded SQLite is fine) and rebuilds them from `$all`.
 */
export function createEventStoreDbEventStore(options: EventStoreDbEventStoreOptions): EventStore {
  const client = EventStoreDBClient.connectionString(toClientConnectionString(options.connectionString));
  // The client parsed the setting into a getter it keeps protected; read it there rather than parse twice.
  if ((client as unknown as { readonly throwOnAppendFailure: boolean }).throwOnAppendFailure === false) {
    // With it the client resolves a refused append as `{ success: false }` with a wrong
    // revision (client 6.2 `batchAppend.js` reads `hasCurrentStreamRevision()` as the
    // revision), which the adapter would take for a durable write.
    void client.dispose();
    throw new Error('EVENTSTORE_CONNECTION_STRING sets throwOnAppendFailure=false; statuscast needs append failures as errors: remove the setting');
  }
  const policy = {
    initialDelayMs: options.resubscribeDelayMs ?? 100,
    maxDelayMs: options.maxResubscribeDelayMs ?? 5_000,
    maxAttempts: options.maxResubscribeAttempts ?? Number.POSITIVE_INFINITY,
  };
  const subscriptions = new Set<AllSubscription>();
  let closed = false;
  const check = options.retentionCheck;
  // Ended and awaited by close(): the client's dispose() waits for every call it started.
  const stopChecking = new AbortController();
  const checking = check
    ? findTruncatingStreams(client, check.streamNamePrefixes, stopChecking.signal).then(
      (streams) => !closed && check.report(streams),
        (error: unknown) => !closed && check.report(error instanceof Error ? error : new Error(String(error))),
      )
    : undefined;

  const closedError = () => new StoreUnavailableError('the EventStoreDB event store is closed');
  const headPosition = () => headPositionFromClient(client);
  const onSkipped = options.onSkippedRecord ?? (() => undefined);

  function guarded<T>(operation: () => Promise<T>): Promise<T> {
    return closed ? Promise.reject(closedError()) : operation();
  }

  async function* guardedRead<T>(read: () => AsyncGenerator<T>): AsyncGenerator<T> {
    if (closed) throw closedError();
    yield* read();
  }

  return {
    appendToStreams: (appends) => guarded(() => appendToStreamsWithClient(client, appends, headPosition)),
    readStream: (stream, readOptions) => guardedRead(() => readStreamFromClient(client, stream, readOptions)),
    streamRevision: (stream) => guarded(() => streamRevisionFromClient(client, stream)),
    readAll: (readOptions) => guardedRead(() => readAllWithClient(client, readOptions, onSkipped)),
    headPosition: () => guarded(headPosition),
    subscribeToAll(subscribeOptions) {
      if (closed) throw closedError();
      const subscription = followAll(client, subscribeOptions, policy, {
        headPosition,
        onClose: (ended) => subscriptions.delete(ended),
        onSkipped,
      });
      subscriptions.add(subscription);
      return subscription;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      stopChecking.abort();
      await checking;
      await client.dispose();
    },
  };
}
