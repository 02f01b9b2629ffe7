import type { EventStore, ReadStreamOptions, RecordedEvent } from '../store/eventStore.ts';
import { HASH_KEY, PREV_HASH_KEY, chainHash } from './chainHash.ts';
import { type ChainRecords, isChained, readChainRecords, recordChainPrefix } from './chainRecords.ts';
import type { ChainLink } from './findChainBreak.ts';

/** An event with the hashes that chain it: its own, or those recorded for it by a backfill. */
export interface ChainEntry {
  readonly event: RecordedEvent;
  readonly hash: string | undefined;
  readonly prevHash: string | undefined;
  /** When the event's hashes were recorded beside it (it predates the chain); absent for chained events. */
  readonly backfilledAt?: Date;
}

export interface ReadChainOptions extends ReadStreamOptions {
  /**
   * Record the hashes of a stream written before the chain when the read meets such an
   * event that has none recorded yet (the lazy upgrade; the value is stored as
   * `recorded_by`). Without it those events come back with no hash.
   */
  readonly recordMissing?: string;
}

/** Reads a stream with each event's chain hashes. */
export async function* readChain(store: EventStore, stream: string, options: ReadChainOptions = {}): AsyncGenerator<ChainEntry> {
  let records: ChainRecords | undefined;
  let triedRecording = false;
  for await (const event of store.readStream(stream, options)) {
    if (isChained(event)) {
      yield { event, hash: asString(event.metadata[HASH_KEY]), prevHash: asString(event.metadata[PREV_HASH_KEY]) };
      continue;
    }
    records ??= await readChainRecords(store, stream);
    let recorded = records.at(event.revision);
    if (!recorded && options.recordMissing && !triedRecording) {
      triedRecording = true;
      records = await recordChainPrefix(store, stream, { recordedBy: options.recordMissing });
      recorded = records.at(event.revision);
    }
    yield recorded
      ? { event, hash: recorded.hash, prevHash: recorded.prevHash, backfilledAt: recorded.recordedAt }
      : { event, hash: undefined, prevHash: undefined };
  }
}

/** The entry as the verifier sees it: its claims, and whether its content matches them. */
export function chainLinkOf(entry: ChainEntry): ChainLink {
  const { event, hash, prevHash } = entry;
  const intact = hash !== undefined && prevHash !== undefined && chainHash({ ...event, prevHash }) === hash;
  return { revision: event.revision, hash, prevHash, intact, legacy: !isChained(event) };
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
