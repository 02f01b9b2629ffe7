import { BACKWARDS, END, type EventStoreDBClient } from '@eventstore/db-client';
import { collect } from '../eventStore.ts';
import type { GlobalPosition } from '../position.ts';
import { fromClientPosition } from './positions.ts';
import { translateError } from './translateError.ts';

/**
 * The position of the newest record in `$all`, of any kind, or `null` for an empty log.
 *
 * Not just the newest statuscast event: the server issues checkpoints at records of any
 * stream, its own `$`-typed ones included (KurrentDB `Enumerator.AllSubscriptionFiltered`
 * counts every considered record towards the checkpoint interval, and a live
 * `CheckpointReached` carries the considered record's position). Those positions reach
 * clients (`GET /jobs`' `position`, the feed's resume ids), and a resume point is checked
 * against this head; a head that ignored the server's records would refuse positions the
 * server itself issued.
 */
export async function headPositionFromClient(client: EventStoreDBClient): Promise<GlobalPosition | null> {
  let newest;
  try {
    [newest] = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
  } catch (error) {
    throw translateError(error);
  }
  const event = newest?.event;
  return event ? fromClientPosition(event.position, () => `event ${event.id}`) : null;
}
