import {
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type StreamAppend,
  WrongExpectedRevisionError,
  collect,
} from '../store/eventStore.ts';
import { GENESIS_HASH, HASH_KEY, PREV_HASH_KEY, chainHash, isChainHash } from './chainHash.ts';
import { CHAIN_RECORD_STREAM_PREFIX, recordChainPrefix } from './chainRecords.ts';
import type { ChainFailure } from './findChainBreak.ts';

export interface AuditChainOptions {
  /**
   * Called when the event an append follows does not match its own hash (it was altered in
   * the store), or is an unchained event after chained ones. The append still goes ahead,
   * chained from the hash the event carries: refusing it would let tampering stop a job.
   */
  readonly onFailure?: (failure: ChainFailure & { readonly stream: string }) => void;
}

/**
 * The audit chain as a layer over any event store (docs/audit.md). Every event appended
 * gets `prev_hash` and `hash` in its metadata, where `hash` covers the event and `prev_hash`,
 * the hash of the revision it follows. The store's expected-revision check is what makes
 * this sound on every engine: the previous event is read, its hash chained, and the append
 * states that revision, so if another writer got there first the append conflicts and the
 * caller (the command handler) retries from a fresh read.
 *
 * `'any'` and `'stream_exists'` are turned into the revision read just before, for the same
 * reason: an append that cannot conflict cannot know which event it follows.
 * Side streams (`audit-chain-…`) are passed through unchained.
 */
export function withAuditChain(store: EventStore, options: AuditChainOptions = {}): EventStore {
  /** The hash an append at `revision + 1` chains from. */
  async function hashAt(stream: string, revision: number): Promise<string> {
    const [event] = await collect(store.readStream(stream, { fromRevision: revision, maxCount: 1 }));
    if (!event || event.revision !== revision) {
      // The stream is not where the caller thinks; the store would refuse the append too.
      throw new WrongExpectedRevisionError(stream, revision, (await store.streamRevision(stream)) ?? 'no_stream');
    }
    const own = event.metadata[HASH_KEY];
    if (own !== undefined) {
      const prev = event.metadata[PREV_HASH_KEY];
      const intact = isChainHash(own) && typeof prev === 'string' && chainHash({ ...event, prevHash: prev }) === own;
      if (!intact) options.onFailure?.({ stream, revision, reason: 'data changed', detail: 'the event this append follows does not match its hash' });
      if (isChainHash(own)) return own;
      return chainHash({ ...event, prevHash: typeof prev === 'string' ? prev : GENESIS_HASH });
    }
    // Written before the chain: record the chain of the stream's unchained prefix (once).
    const records = await recordChainPrefix(store, stream, { upTo: revision, recordedBy: 'upgrade on append' });
    const recorded = records.at(revision);
    if (recorded) return recorded.hash;
    // An unchained event after chained ones was not written through the chain.
    options.onFailure?.({ stream, revision, reason: 'inserted', detail: 'the event this append follows carries no chain hash' });
    const before = revision === 0 ? GENESIS_HASH : await hashAt(stream, revision - 1);
    return chainHash({ ...event, prevHash: before });
  }

  async function chain(append: StreamAppend, chainedSoFar: Map<string, { revision: number; hash: string }>): Promise<StreamAppend> {
    const { stream } = append;
    if (stream.startsWith(CHAIN_RECORD_STREAM_PREFIX) || append.events.length === 0) return append;
    let expectedRevision: ExpectedRevision = append.expectedRevision;
    if (expectedRevision === 'any' || expectedRevision === 'stream_exists') {
      const head = await store.streamRevision(stream);
      // 'stream_exists' on an absent stream stays as it is, for the store to refuse.
      if (head !== null) expectedRevision = head;
      else if (expectedRevision === 'any') expectedRevision = 'no_stream';
    }
    let revision: number;
    let prevHash: string;
    const earlier = chainedSoFar.get(stream);
    if (earlier && expectedRevision === earlier.revision) {
      ({ revision, hash: prevHash } = earlier);
    } else if (typeof expectedRevision === 'number') {
      revision = expectedRevision;
      prevHash = await hashAt(stream, expectedRevision);
    } else {
      revision = -1;
      prevHash = GENESIS_HASH;
    }
    const events = append.events.map((event): NewEvent => {
      if (HASH_KEY in event.metadata || PREV_HASH_KEY in event.metadata) {
        throw new TypeError(`event ${event.id}: metadata keys "${HASH_KEY}" and "${PREV_HASH_KEY}" belong to the audit chain`);
      }
      revision += 1;
      const metadata = { ...event.metadata, [PREV_HASH_KEY]: prevHash };
      const hash = chainHash({ stream, revision, type: event.type, data: event.data, metadata, prevHash });
      prevHash = hash;
      return { ...event, metadata: { ...metadata, [HASH_KEY]: hash } };
    });
    chainedSoFar.set(stream, { revision, hash: prevHash });
    return { stream, events, expectedRevision };
  }

  return {
    async appendToStreams(appends): Promise<AppendResult[]> {
      const chainedSoFar = new Map<string, { revision: number; hash: string }>();
      const distinct = new Set(appends.map((a) => a.stream)).size === appends.length;
      // Streams of one call are read in parallel (a round trip each on a remote engine),
      // unless a stream appears twice and its second append chains from its first.
      const chained = distinct
        ? await Promise.all(appends.map((append) => chain(append, chainedSoFar)))
        : await appends.reduce<Promise<StreamAppend[]>>(async (done, append) => [...(await done), await chain(append, chainedSoFar)], Promise.resolve([]));
      return store.appendToStreams(chained);
    },
    readStream: (stream, readOptions) => store.readStream(stream, readOptions),
    streamRevision: (stream) => store.streamRevision(stream),
    readAll: (readOptions) => store.readAll(readOptions),
    subscribeToAll: (subscribeOptions) => store.subscribeToAll(subscribeOptions),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
}
