import { BACKWARDS, END, type EventStoreDBClient } from '@eventstore/db-client';
import { collect } from '../eventStore.ts';
import { comparePositions, type GlobalPosition } from '../position.ts';
import { isSystemEventType } from './isSystemEvent.ts';
import { fromClientPosition, toClientPosition } from './positions.ts';
import { translateError } from './translateError.ts';

/** Events read per backwards page while looking past the server's own events. */
const PAGE_SIZE = 64;

/**
 * The position of the newest non-system event in `$all`, or `null` when there is none.
 *
 * Reads `$all` backwards from the end, a page at a time. The server's own events (users,
 * settings, statistics) are skipped, so a fresh server reads as empty and the head is the
 * last event an application wrote: the same events subscriptions deliver, which is what
 * projection lag is measured against.
 */
export async function headPositionFromClient(client: EventStoreDBClient): Promise<GlobalPosition | null> {
  let before: GlobalPosition | null = null;
  for (;;) {
    let page;
    try {
      page = await collect(
        client.readAll({ direction: BACKWARDS, fromPosition: before ? toClientPosition(before) : END, maxCount: PAGE_SIZE }),
      );
    } catch (error) {
      throw translateError(error);
    }
    let oldest: GlobalPosition | null = null;
    for (const { event } of page) {
      if (!event) continue;
      const eventPosition = fromClientPosition(event.position, () => `event ${event.id}`);
      oldest = eventPosition;
      // Whether a backwards read includes its start position is not promised; never look twice.
      if (before && comparePositions(eventPosition, before) >= 0) continue;
      if (!isSystemEventType(event.type)) return eventPosition;
    }
    if (page.length < PAGE_SIZE || !oldest) return null;
    before = oldest;
  }
}
