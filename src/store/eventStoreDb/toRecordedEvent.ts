import type { Position as ClientPosition } from '@eventstore/db-client';
import type { RecordedEvent } from '../eventStore.ts';
import type { GlobalPosition } from '../position.ts';
import { isSystemEventType } from './isSystemEvent.ts';
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

/** A record in `$all` that is not a statuscast event, and why. */
export interface SkippedRecord {
  readonly stream: string;
  readonly type: string;
  readonly position: GlobalPosition;
  /** `system`: a `$`-typed record (a hard delete's `$streamDeleted`, metadata, …); `not-json`: bytes or a non-object. */
  readonly reason: 'system' | 'not-json';
}

/**
 * What `$all` readers do with one record: statuscast's own events are mapped; anything else
 * under a matching stream name — a hard delete's tombstone (type `$streamDeleted`, not JSON,
 * revision `long.MaxValue`: KurrentDB `SystemEventTypes.StreamDeleted`,
 * `EventNumber.DeletedStream`), or bytes someone else wrote — is reported as skipped, never
 * thrown: a reader that threw would resume at the same position and meet it again for ever.
 */
export function classifyRecord(event: ClientRecordedEvent): { readonly event: RecordedEvent } | { readonly skipped: SkippedRecord } {
  const describe = () => `event ${event.id} (${event.streamId}@${event.revision})`;
  const reason = isSystemEventType(event.type)
    ? 'system'
    : !event.isJson || !isJsonObject(event.data) || !isJsonObject(event.metadata ?? {})
      ? 'not-json'
      : undefined;
  if (reason) return { skipped: { stream: event.streamId, type: event.type, position: fromClientPosition(event.position, describe), reason } };
  return { event: toRecordedEvent(event) };
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
