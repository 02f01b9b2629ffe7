import type { RecordedEvent } from '../eventStore.ts';
import { type GlobalPosition, position } from '../position.ts';
import { SCHEMA } from './migrations.ts';

export const EVENTS = `${SCHEMA}.events`;

/** The columns every read selects; `tx` is the xid8 as text (node-postgres has no parser for it). */
export const EVENT_COLUMNS = 'position, transaction_id::text AS tx, stream, revision, id, type, data, metadata, recorded_at';

export interface EventRow {
  readonly position: string;
  readonly tx: string;
  readonly stream: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  readonly recorded_at: Date;
}

/** Before the first event: `(0, 0)` sorts before every (transaction id, sequence) pair. */
export const ORIGIN: GlobalPosition = position(0n, 0n);

/**
 * A row's place in `$all`: `commit` is the id of the transaction that wrote it, `prepare`
 * its sequence number (see `readAllPage.ts` for why both).
 */
export function rowPosition(row: { readonly tx: string; readonly position: string }): GlobalPosition {
  return position(BigInt(row.tx), BigInt(row.position));
}

/** A position as the two query parameters `$n::xid8, $n+1::bigint`. */
export function positionParams(p: GlobalPosition): [string, string] {
  return [p.commit.toString(), p.prepare.toString()];
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    stream: row.stream,
    revision: row.revision,
    position: rowPosition(row),
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}
