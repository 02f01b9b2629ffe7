import { JOB_STREAM_PREFIX } from '../domain/job/events.ts';
import type { EventStore } from '../store/eventStore.ts';
import { GENESIS_HASH } from './chainHash.ts';
import { chainLinkOf, readChain } from './readChain.ts';
import { type ChainFailure, type ChainLink, findChainBreak } from './findChainBreak.ts';

export type StoredStreamVerdict =
  | { readonly ok: true; readonly stream: string; readonly lastRevision: number; readonly head: string; readonly backfilledUpTo: number | undefined }
  | ({ readonly ok: false; readonly stream: string } & ChainFailure);

/**
 * Walks one stream in the store and checks its chain from revision 0: each event's content
 * against its hash, each link against the event before it, and recorded (backfilled) hashes
 * for the events that predate the chain. Reads only; records nothing.
 */
export async function verifyStoredStream(store: EventStore, stream: string): Promise<StoredStreamVerdict> {
  const links: ChainLink[] = [];
  let backfilledUpTo: number | undefined;
  for await (const entry of readChain(store, stream)) {
    links.push(chainLinkOf(entry));
    if (entry.backfilledAt) backfilledUpTo = entry.event.revision;
  }
  if (links.length === 0) {
    return { ok: false, stream, revision: 0, reason: 'event removed', detail: 'the stream has no events' };
  }
  const broken = findChainBreak(links, { startRevision: 0, startHash: GENESIS_HASH });
  if (broken) return { ok: false, stream, ...broken };
  const last = links.at(-1)!;
  return { ok: true, stream, lastRevision: last.revision, head: last.hash!, backfilledUpTo };
}

/** Every job stream in the store, in the order they were started. */
export async function* jobStreams(store: EventStore): AsyncGenerator<string> {
  const seen = new Set<string>();
  for await (const event of store.readAll({ filter: { streamNamePrefixes: [JOB_STREAM_PREFIX] } })) {
    if (seen.has(event.stream)) continue;
    seen.add(event.stream);
    yield event.stream;
  }
}
