import type { ReadReq } from '@eventstore/db-client/generated/streams_pb.js';
import type { StoredEvent } from './standInLog.ts';

/** A server-side `$all` filter as EventStoreDB applies it: on the stream name or the event type. */
export interface StandInFilter {
  readonly description: string;
  matches(event: StoredEvent): boolean;
  /** Events examined between two checkpoints of a filtered subscription. */
  readonly checkpointInterval: number;
}

/** EventStoreDB reads `$all` in pages of 32 when the client leaves the search window open. */
const DEFAULT_SEARCH_WINDOW = 32;

/** Returns `null` for `no_filter`. */
export function filterFrom(options: ReadReq.Options): StandInFilter | null {
  if (!options.hasFilter()) return null;
  const filter = options.getFilter()!;
  const onStreamName = filter.hasStreamIdentifier();
  const expression = onStreamName ? filter.getStreamIdentifier() : filter.getEventType();
  if (!expression) throw new Error('filter without an expression');
  const regex = expression.getRegex();
  const prefixes = expression.getPrefixList();
  const subject = (event: StoredEvent) => (onStreamName ? event.stream : event.type);
  // The server uses .NET regular expressions; the patterns clients send (`^[^\$].*`,
  // anchored prefixes) mean the same in JavaScript.
  const pattern = regex ? new RegExp(regex) : null;
  const window = filter.hasMax() ? filter.getMax() : DEFAULT_SEARCH_WINDOW;
  return {
    description: `${onStreamName ? 'stream' : 'type'} ${regex ? `/${regex}/` : `prefixes ${JSON.stringify(prefixes)}`}`,
    matches: (event) => (pattern ? pattern.test(subject(event)) : prefixes.some((p) => subject(event).startsWith(p))),
    checkpointInterval: Math.max(1, filter.getCheckpointintervalmultiplier()) * window,
  };
}
