import type { Position as ClientPosition } from '@eventstore/db-client';
import type { RecordedEvent } from '../eventStore.ts';
import { fromClientPosition, toRevision } from './positions.ts';

/** The fields of the client's recorded event that the port needs (stream and `$all` reads alike). */
export interface ClientRecordedEvent {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly created: Date;
  readonly isJson: boolean;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: ClientPosition;
}

/**
 * Maps a client event to the port's shape. statuscast writes JSON objects for both data and
 * metadata; anything else in a stream it reads is refused loudly rather than guessed at.
 */
export function toRecordedEvent(event: ClientRecordedEvent): RecordedEvent {
  const describe = () => `event ${event.id} (${event.streamId}@${event.revision})`;
  if (!event.isJson || !isJsonObject(event.data)) {
    throw new Error(`${describe()} is not a JSON object; statuscast streams hold JSON events only`);
  }
  const metadata = event.metadata ?? {};
  if (!isJsonObject(metadata)) throw new Error(`${describe()} has metadata that is not a JSON object`);
  return {
    id: event.id,
    stream: event.streamId,
    revision: toRevision(event.revision),
    position: fromClientPosition(event.position, describe),
    type: event.type,
    data: event.data,
    metadata,
    recordedAt: event.created,
  };
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
