import type { Position as ClientPosition } from '@eventstore/db-client';
import { type GlobalPosition, position } from '../position.ts';

/** What the server reports (as `ulong.MaxValue`) when it does not know an event's position. */
const UNKNOWN_POSITION = (1n << 64n) - 1n;

/**
 * EventStoreDB's `{commit, prepare}` and ours are the same pair of unsigned 64-bit byte
 * offsets. The client hands them over as bigints parsed from decimal strings, so the
 * mapping is a copy: no JavaScript number is ever involved.
 */
export function fromClientPosition(clientPosition: ClientPosition | undefined, describe: () => string): GlobalPosition {
  if (!clientPosition || clientPosition.commit === UNKNOWN_POSITION || clientPosition.prepare === UNKNOWN_POSITION) {
    // Servers before 22.6 do not report positions on stream reads; statuscast needs them.
    throw new Error(`EventStoreDB did not report the position of ${describe()}; statuscast needs EventStoreDB 23.10 or later`);
  }
  return position(clientPosition.commit, clientPosition.prepare);
}

export function toClientPosition(globalPosition: GlobalPosition): ClientPosition {
  return { commit: globalPosition.commit, prepare: globalPosition.prepare };
}

/**
 * Stream revisions are 64-bit on the server but numbers in our port: job streams stay far
 * below 2^53 events, and a revision that does not fit is refused rather than rounded.
 */
export function toRevision(revision: bigint): number {
  if (revision > BigInt(Number.MAX_SAFE_INTEGER) || revision < -1n) {
    throw new RangeError(`stream revision ${revision} does not fit a JavaScript number`);
  }
  return Number(revision);
}
