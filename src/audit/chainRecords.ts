import { eventIdFor } from '../store/eventIds.ts';
import { type EventStore, WrongExpectedRevisionError, type RecordedEvent } from '../store/eventStore.ts';
import { GENESIS_HASH, HASH_KEY, chainHash } from './chainHash.ts';

/**
 * Streams written before the audit chain existed carry no hashes. Their chain is recorded
 * beside them, never in them: history is not rewritten. Each job stream `s` gets a side
 * stream `audit-chain-s` of `AuditChainRecorded` events, each holding the hashes of a run of
 * consecutive revisions. Side streams start with neither `job-` nor `$`, so projections and
 * the live feed never see them, and they live in the same store as the events on every engine.
 */
export const CHAIN_RECORD_STREAM_PREFIX = 'audit-chain-';
export const CHAIN_RECORD_EVENT_TYPE = 'AuditChainRecorded';
/** Hashes per side event: about 67 KB, well inside EventStoreDB's 1 MiB append limit. */
const HASHES_PER_RECORD = 1000;

export function chainRecordStream(stream: string): string {
  return `${CHAIN_RECORD_STREAM_PREFIX}${stream}`;
}

/** Hashes recorded for revisions `firstRevision … firstRevision + hashes.length - 1`. */
export interface ChainRecord {
  readonly firstRevision: number;
  /** Hash of the revision before `firstRevision` (the genesis value for revision 0). */
  readonly prevHash: string;
  readonly hashes: readonly string[];
  readonly recordedAt: Date;
}

/** The recorded hashes of one stream, looked up by revision. */
export class ChainRecords {
  readonly #records: ChainRecord[];
  /** Revision of the side stream's last event, for appending more with an expected revision. */
  readonly sideRevision: number | null;

  constructor(records: ChainRecord[], sideRevision: number | null) {
    this.#records = records;
    this.sideRevision = sideRevision;
  }

  get isEmpty(): boolean {
    return this.#records.length === 0;
  }

  /** Revision just after the last recorded one (0 when nothing is recorded). */
  get nextRevision(): number {
    const last = this.#records.at(-1);
    return last ? last.firstRevision + last.hashes.length : 0;
  }

  get lastHash(): string {
    return this.#records.at(-1)?.hashes.at(-1) ?? GENESIS_HASH;
  }

  /** `{hash, prevHash, recordedAt}` of a recorded revision, or `undefined`. */
  at(revision: number): { hash: string; prevHash: string; recordedAt: Date } | undefined {
    // Records are few and in revision order; search from the end, where appends look.
    for (let i = this.#records.length - 1; i >= 0; i--) {
      const record = this.#records[i]!;
      const offset = revision - record.firstRevision;
      if (offset < 0) continue;
      if (offset >= record.hashes.length) return undefined;
      return {
        hash: record.hashes[offset]!,
        prevHash: offset === 0 ? record.prevHash : record.hashes[offset - 1]!,
        recordedAt: record.recordedAt,
      };
    }
    return undefined;
  }

  /** Revision ranges with the time they were recorded, for the export and the verifier. */
  ranges(): { first_revision: number; last_revision: number; recorded_at: string }[] {
    const ranges: { first_revision: number; last_revision: number; recorded_at: string }[] = [];
    for (const record of this.#records) {
      const last = ranges.at(-1);
      const recordedAt = record.recordedAt.toISOString();
      if (last && last.last_revision + 1 === record.firstRevision) {
        last.last_revision += record.hashes.length;
        last.recorded_at = recordedAt;
      } else {
        ranges.push({ first_revision: record.firstRevision, last_revision: record.firstRevision + record.hashes.length - 1, recorded_at: recordedAt });
      }
    }
    return ranges;
  }
}

export async function readChainRecords(store: EventStore, stream: string): Promise<ChainRecords> {
  const records: ChainRecord[] = [];
  let sideRevision: number | null = null;
  for await (const event of store.readStream(chainRecordStream(stream))) {
    sideRevision = event.revision;
    const record = toChainRecord(event);
    if (record) records.push(record);
  }
  return new ChainRecords(records, sideRevision);
}

function toChainRecord(event: RecordedEvent): ChainRecord | undefined {
  if (event.type !== CHAIN_RECORD_EVENT_TYPE) return undefined;
  const { first_revision: firstRevision, prev_hash: prevHash, hashes } = event.data as Record<string, unknown>;
  if (typeof firstRevision !== 'number' || typeof prevHash !== 'string' || !Array.isArray(hashes)) return undefined;
  return { firstRevision, prevHash, hashes: hashes as string[], recordedAt: event.recordedAt };
}

/** An event that carries its own chain hash (written through the chain). */
export function isChained(event: RecordedEvent): boolean {
  return HASH_KEY in event.metadata;
}

/**
 * Records the chain of a stream's unchained prefix: the events before its first chained
 * event, up to `upTo` (inclusive; default: all of them). Only a prefix is ever recorded: an
 * unchained event *after* a chained one was not written through the chain, so recording it
 * would vouch for an insertion. Deterministic, so concurrent recorders write the same hashes;
 * the loser of a race re-reads and continues. Resolves to the records as they then stand.
 */
export async function recordChainPrefix(
  store: EventStore,
  stream: string,
  options: { upTo?: number; recordedBy: string },
): Promise<ChainRecords> {
  for (let attempt = 1; ; attempt++) {
    const records = await readChainRecords(store, stream);
    try {
      return await extendRecords(store, stream, records, options);
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || error.stream !== chainRecordStream(stream) || attempt >= 5) throw error;
    }
  }
}

async function extendRecords(
  store: EventStore,
  stream: string,
  records: ChainRecords,
  options: { upTo?: number; recordedBy: string },
): Promise<ChainRecords> {
  let sideRevision = records.sideRevision;
  let prev = records.lastHash;
  let expectedRevision = records.nextRevision;
  let run: { firstRevision: number; prevHash: string; hashes: string[] } | undefined;
  let wrote = false;

  const flush = async () => {
    if (!run || run.hashes.length === 0) return;
    await store.appendToStreams([
      {
        stream: chainRecordStream(stream),
        expectedRevision: sideRevision ?? 'no_stream',
        events: [
          {
            // Derived from what it records, so two recorders racing write the same event once.
            id: eventIdFor(chainRecordStream(stream), String(run.firstRevision), CHAIN_RECORD_EVENT_TYPE),
            type: CHAIN_RECORD_EVENT_TYPE,
            data: { stream, first_revision: run.firstRevision, prev_hash: run.prevHash, hashes: run.hashes },
            metadata: { recorded_by: options.recordedBy },
          },
        ],
      },
    ]);
    sideRevision = (sideRevision ?? -1) + 1;
    wrote = true;
    run = undefined;
  };

  for await (const event of store.readStream(stream, { fromRevision: records.nextRevision })) {
    if (options.upTo !== undefined && event.revision > options.upTo) break;
    if (isChained(event)) break;
    // A revision missing from the store starts a new run; the verifier reports the gap.
    if (event.revision !== expectedRevision) await flush();
    const hash = chainHash({ ...event, prevHash: prev });
    run ??= { firstRevision: event.revision, prevHash: prev, hashes: [] };
    run.hashes.push(hash);
    prev = hash;
    expectedRevision = event.revision + 1;
    if (run.hashes.length >= HASHES_PER_RECORD) await flush();
  }
  await flush();
  return wrote ? readChainRecords(store, stream) : records;
}
