import type { EventStoreDBClient } from '@eventstore/db-client';
import { type ReadAllOptions, type RecordedEvent, StoreUnavailableError } from '../eventStore.ts';
import { openSubscription } from './openSubscription.ts';
import { classifyRecord, type SkippedRecord } from './toRecordedEvent.ts';
import { translateError } from './translateError.ts';

/**
 * Reads `$all` strictly after a position, filtered on the server, up to the end of the log.
 *
 * Client 6.2's `readAll` takes no filter, although the server filters reads; its catch-up
 * subscription does take one. So this read is a subscription followed until the server says
 * `CaughtUp` (EventStoreDB 23.10+, KurrentDB), then cancelled. It starts strictly after the
 * position, as the port wants, and never surfaces the server's own events nor records that
 * are not statuscast events (reported to `onSkipped`). A dropped call
 * fails the read with `StoreUnavailableError`; the caller retries from its last event.
 */
export async function* readAllWithClient(
  client: EventStoreDBClient,
  options: ReadAllOptions = {},
  onSkipped: (record: SkippedRecord) => void = () => undefined,
): AsyncGenerator<RecordedEvent> {
  let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
  if (remaining <= 0) return;
  const subscription = openSubscription(client, {
    from: options.after === undefined ? 'start' : options.after,
    filter: options.filter,
  });
  try {
    for await (const message of subscription) {
      if (message.kind === 'caughtUp') return;
      if (message.kind !== 'event') continue;
      const record = classifyRecord(message.event);
      if ('skipped' in record) {
        onSkipped(record.skipped);
        continue;
      }
      yield record.event;
      if (--remaining <= 0) return;
    }
  } catch (error) {
    throw translateError(error);
  } finally {
    await subscription.close();
  }
  throw new StoreUnavailableError('EventStoreDB ended the $all read before it caught up');
}
