import type { EventStoreDBClient } from '@eventstore/db-client';
import {
  type AllSubscription,
  type AllSubscriptionItem,
  StoreUnavailableError,
  type SubscribeToAllOptions,
} from '../eventStore.ts';
import { type GlobalPosition, isAfter } from '../position.ts';
import { openSubscription, type OpenSubscription } from './openSubscription.ts';
import { fromClientPosition } from './positions.ts';
import { classifyRecord, type SkippedRecord } from './toRecordedEvent.ts';
import { translateError } from './translateError.ts';

/** How a subscription comes back after the server drops it. */
export interface ResubscribePolicy {
  /** Delay before the first retry; doubles per failed retry. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Retries in a row without a single message before giving up with `StoreUnavailableError`. */
  readonly maxAttempts: number;
}

/**
 * Follows `$all` (catch-up, then live) across dropped subscriptions.
 *
 * The adapter remembers the position of the last event or checkpoint it handed to its
 * consumer, not what the server believes it sent. When the call ends — server restart,
 * connection loss, the server cancelling it — whatever the client had already buffered is
 * delivered first, then a new subscription starts strictly after that remembered position:
 * no gap, and anything at or before it is dropped, so no duplicate either. `caughtUp` is
 * reported once, the first time the server says so.
 *
 * Records that are not statuscast events (tombstones, bytes) are reported to `onSkipped` and
 * delivered as checkpoints at their position. Transient failures are retried with backoff;
 * other errors end the iteration.
 */
export function followAll(
  client: EventStoreDBClient,
  options: SubscribeToAllOptions,
  policy: ResubscribePolicy,
  dependencies: {
    headPosition(): Promise<GlobalPosition | null>;
    onClose(subscription: AllSubscription): void;
    /** Told of every record that is not a statuscast event; it becomes a checkpoint. */
    onSkipped(record: SkippedRecord): void;
  },
): AllSubscription {
  let closed = false;
  let current: OpenSubscription | undefined;
  let wakeFromBackoff: (() => void) | undefined;

  async function* follow(): AsyncGenerator<AllSubscriptionItem> {
    let lastSeen: GlobalPosition | null = options.from === 'start' || options.from === 'end' ? null : options.from;
    // `end` is pinned to a position before the first subscription, so a resubscription after
    // a drop resumes there instead of skipping what was appended while the server was away.
    let pinned = options.from !== 'end';
    let caughtUpReported = false;
    let failures = 0;

    try {
      while (!closed) {
        let failure: unknown = new StoreUnavailableError('EventStoreDB ended the subscription');
        let attempt: OpenSubscription | undefined;
        try {
          if (!pinned) {
            lastSeen = await dependencies.headPosition();
            pinned = true;
          }
          attempt = openSubscription(client, { from: lastSeen ?? 'start', filter: options.filter });
          current = attempt;
          for await (const message of attempt) {
            failures = 0;
            if (message.kind === 'event') {
              const record = classifyRecord(message.event);
              const recordPosition = 'event' in record ? record.event.position : record.skipped.position;
              if (lastSeen && !isAfter(recordPosition, lastSeen)) continue;
              lastSeen = recordPosition;
              if ('event' in record) {
                yield { kind: 'event', event: record.event };
              } else {
                // Passed over, but as a position: consumers' checkpoints move past it.
                dependencies.onSkipped(record.skipped);
                yield { kind: 'checkpoint', position: recordPosition };
              }
            } else if (message.kind === 'checkpoint') {
              const checkpoint = fromClientPosition(message.position, () => 'a checkpoint');
              if (lastSeen && !isAfter(checkpoint, lastSeen)) continue;
              lastSeen = checkpoint;
              yield { kind: 'checkpoint', position: checkpoint };
            } else if (!caughtUpReported) {
              caughtUpReported = true;
              yield { kind: 'caughtUp', position: lastSeen };
            }
            if (closed) return;
          }
        } catch (error) {
          failure = translateError(error);
        } finally {
          current = undefined;
          await attempt?.close();
        }
        if (closed) return;
        if (!(failure instanceof StoreUnavailableError)) throw failure;
        failures += 1;
        if (failures > policy.maxAttempts) throw failure;
        await backoff(Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failures - 1)));
      }
    } finally {
      closed = true;
      dependencies.onClose(subscription);
    }
  }

  function backoff(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, delayMs);
      function done() {
        clearTimeout(timer);
        wakeFromBackoff = undefined;
        resolve();
      }
      wakeFromBackoff = done;
    });
  }

  const iterator = follow();
  const subscription: AllSubscription = {
    [Symbol.asyncIterator]: () => iterator,
    async close() {
      if (closed) return;
      closed = true;
      dependencies.onClose(subscription);
      wakeFromBackoff?.();
      await current?.close();
    },
  };
  return subscription;
}
