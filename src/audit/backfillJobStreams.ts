import { JOB_STREAM_PREFIX } from '../domain/job/events.ts';
import type { EventStore } from '../store/eventStore.ts';
import { isChained, readChainRecords, recordChainPrefix } from './chainRecords.ts';

export interface BackfillOutcome {
  readonly stream: string;
  /** Revisions whose hashes this run recorded. */
  readonly recorded: number;
  /** Revisions that were already chained or recorded. */
  readonly already: number;
}

/**
 * `npm run audit:backfill`: records the chain of every job stream written before the chain
 * existed (docs/audit.md). Streams are found with one pass over `$all` that looks for events
 * without a hash; only those streams are read again. Safe to run while the service appends,
 * and again: what is recorded is not recorded twice.
 */
export async function* backfillJobStreams(store: EventStore): AsyncGenerator<BackfillOutcome> {
  const candidates = new Set<string>();
  for await (const event of store.readAll({ filter: { streamNamePrefixes: [JOB_STREAM_PREFIX] } })) {
    if (!isChained(event)) candidates.add(event.stream);
  }
  for (const stream of candidates) {
    const before = await readChainRecords(store, stream);
    const after = await recordChainPrefix(store, stream, { recordedBy: 'audit:backfill' });
    yield { stream, recorded: after.nextRevision - before.nextRevision, already: before.nextRevision };
  }
}
