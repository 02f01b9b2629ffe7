import {
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type EventStoreDBClient,
  excludeSystemEvents,
  type Filter,
  type Position as ClientPosition,
  START,
  streamNameFilter,
} from '@eventstore/db-client';
import type { StreamFilter } from '../eventStore.ts';
import type { GlobalPosition } from '../position.ts';
import { toClientPosition } from './positions.ts';
import { pullReadable } from './pullReadable.ts';

/** One server message of a `$all` subscription, in the order the server sent it. */
export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: AllStreamRecordedEvent }
  | { readonly kind: 'checkpoint'; readonly position: ClientPosition }
  | { readonly kind: 'caughtUp' };

/** One gRPC subscription: iterate it once, then close it. */
export interface OpenSubscription extends AsyncIterable<SubscriptionMessage> {
  /** Cancels the call and ends a pending iteration. Idempotent. */
  close(): Promise<void>;
}

const MARKER = Symbol('statuscast.subscriptionMarker');

interface Marker {
  readonly [MARKER]: SubscriptionMessage;
}

/**
 * Opens a catch-up subscription to `$all` strictly after `from`, filtered on the server.
 *
 * Client 6.2 delivers events through its readable stream but reports checkpoints through a
 * callback and `CaughtUp` through an event, both while earlier events may still sit in the
 * stream's buffer. To keep the server's order, both are pushed into that same readable
 * buffer as markers at the moment the client reports them, so a reader sees exactly the
 * sequence the server sent. The stream is pull-based: events not yet read stay in the
 * buffer, then in gRPC's flow-control window, then on the server.
 *
 * Without a filter the server's own events are excluded (`excludeSystemEvents`), as the
 * port's readers expect application events only.
 */
export function openSubscription(
  client: EventStoreDBClient,
  options: { readonly from: GlobalPosition | 'start'; readonly filter: StreamFilter | undefined },
): OpenSubscription {
  const pushMarker = (target: AllStreamSubscription, message: SubscriptionMessage) => {
    target.push({ [MARKER]: message } satisfies Marker);
  };
  const subscription = client.subscribeToAll({
    fromPosition: options.from === 'start' ? START : toClientPosition(options.from),
    filter: serverFilter(options.filter, (target, position) => pushMarker(target, { kind: 'checkpoint', position })),
  });
  subscription.on('caughtUp', () => pushMarker(subscription, { kind: 'caughtUp' }));

  const messages = pullReadable<AllStreamResolvedEvent | Marker>(subscription);
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    messages.release();
    // Cancelling a call that never got going has nothing to cancel; that is not a failure.
    await subscription.unsubscribe().catch(() => undefined);
  };

  return {
    close,
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const next = await messages.next();
          if (next.done) return;
          if (MARKER in next.value) yield next.value[MARKER];
          else if (next.value.event) yield { kind: 'event', event: next.value.event };
        }
      } finally {
        await close();
      }
    },
  };
}

function serverFilter(
  filter: StreamFilter | undefined,
  checkpointReached: (subscription: AllStreamSubscription, position: ClientPosition) => void,
): Filter {
  if (!filter) return excludeSystemEvents({ checkpointReached });
  if (filter.streamNamePrefixes.length === 0) {
    // No prefix matches nothing; the server has no spelling for that other than a regex.
    return streamNameFilter({ regex: '^(?!)', checkpointReached });
  }
  return streamNameFilter({ prefixes: [...filter.streamNamePrefixes], checkpointReached });
}
