/**
 * The stand-in's storage: an in-memory transaction log with EventStoreDB's append rules
 * (expected revision, event-id idempotency) and byte-offset-like `{commit, prepare}`
 * positions. Shared by every gRPC handler of one stand-in, and kept across `stop()` /
 * `start()` so a restarted stand-in still holds what was written.
 */

/** A position in the log; both halves are byte offsets, as in EventStoreDB. */
export interface LogPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

export interface StoredEvent {
  readonly id: string;
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  /** .NET ticks since the Unix epoch, as the server reports `created`. */
  readonly createdTicks: bigint;
  readonly position: LogPosition;
  /**
   * A hard delete's tombstone: reported with revision `long.MaxValue`
   * (`EventNumber.DeletedStream` in KurrentDB `Core/Data/EventNumber.cs`).
   */
  readonly tombstone?: true;
}

/** The revision the server reports for a tombstone: `long.MaxValue`. */
export const TOMBSTONE_REVISION = (1n << 63n) - 1n;

export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

/** EventStoreDB's expected-version encoding: a revision, or one of the negative markers. */
export type ExpectedVersion = bigint | 'any' | 'no_stream' | 'stream_exists';

export type AppendOutcome =
  | { readonly kind: 'written' | 'idempotent'; readonly lastRevision: number; readonly position: LogPosition | null }
  | { readonly kind: 'wrongExpectedVersion'; readonly current: number | null }
  /** The stream was hard-deleted; nothing can be appended to it again (`CommitDecision.Deleted`). */
  | { readonly kind: 'streamDeleted' };

/**
 * The log starts above 2^53, at an odd offset, so that positions that pass through a
 * JavaScript number lose precision (odd integers above 2^53 have no exact double) and fail a test.
 */
export const FIRST_LOG_POSITION = (1n << 53n) + 4_097n;

const PREPARE_HEADER_BYTES = 88n;
const COMMIT_RECORD_BYTES = 42n;
const SYSTEM_GAP_BYTES = 23n;

export class StandInLog {
  readonly #events: StoredEvent[] = [];
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly #listeners = new Set<() => void>();
  readonly #deleted = new Set<string>();
  #nextOffset = FIRST_LOG_POSITION;

  /** Whether `stream` was hard-deleted (reads and appends then fail with `stream-deleted`). */
  isDeleted(stream: string): boolean {
    return this.#deleted.has(stream);
  }

  /**
   * Hard-deletes a stream as `Streams.Delete`/`Tombstone` does: a `$streamDeleted` record
   * (`SystemEventTypes.StreamDeleted`), not JSON, empty data and metadata, is written to the
   * stream itself and so appears in `$all` under the stream's own name, where a stream-name
   * prefix filter lets it through. The stream's events stay in `$all` until a scavenge.
   */
  tombstone(stream: string): LogPosition {
    const existing = this.#streams.get(stream) ?? [];
    const [stored] = this.#write(stream, existing, [
      { id: crypto.randomUUID(), type: '$streamDeleted', contentType: 'application/octet-stream', data: new Uint8Array(), metadata: new Uint8Array() },
    ]);
    // The tombstone is not a stream event: stream reads fail from now on instead.
    existing.pop();
    Object.assign(stored!, { tombstone: true });
    this.#deleted.add(stream);
    for (const listener of [...this.#listeners]) listener();
    return stored!.position;
  }

  get events(): readonly StoredEvent[] {
    return this.#events;
  }

  streamEvents(stream: string): readonly StoredEvent[] | undefined {
    return this.#streams.get(stream);
  }

  /** The index of the first event whose position is strictly greater than `after`. */
  indexAfter(after: LogPosition): number {
    let low = 0;
    let high = this.#events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareLogPositions(this.#events[middle]!.position, after) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Calls `listener` after every successful write; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Appends with EventStoreDB's rules: the expected version must match, except that a
   * retry whose event ids are already in place at the expected spot succeeds without
   * writing ("idempotent"), and a retry that only partly matches is a wrong expected version.
   */
  append(stream: string, expected: ExpectedVersion, proposed: readonly ProposedEvent[]): AppendOutcome {
    if (this.#deleted.has(stream)) return { kind: 'streamDeleted' };
    const existing = this.#streams.get(stream) ?? [];
    const current = existing.length === 0 ? null : existing.length - 1;

    const idempotent = this.#checkIdempotency(existing, expected, proposed);
    if (idempotent === 'corrupted') return { kind: 'wrongExpectedVersion', current };
    if (idempotent) return idempotent;

    const matches =
      expected === 'any' ||
      (expected === 'no_stream' && current === null) ||
      (expected === 'stream_exists' && current !== null) ||
      (typeof expected === 'bigint' && current !== null && expected === BigInt(current));
    if (!matches) return { kind: 'wrongExpectedVersion', current };
    if (proposed.length === 0) return { kind: 'written', lastRevision: current ?? -1, position: null };

    const written = this.#write(stream, existing, proposed);
    for (const listener of [...this.#listeners]) listener();
    return { kind: 'written', lastRevision: written[written.length - 1]!.revision, position: written[written.length - 1]!.position };
  }

  #checkIdempotency(
    existing: readonly StoredEvent[],
    expected: ExpectedVersion,
    proposed: readonly ProposedEvent[],
  ): AppendOutcome | 'corrupted' | undefined {
    const first = proposed[0];
    if (!first) return undefined;
    let start: number;
    if (typeof expected === 'bigint' || expected === 'no_stream') {
      start = expected === 'no_stream' ? 0 : Number(expected) + 1;
      if (existing[start]?.id !== first.id) return undefined;
    } else {
      start = existing.findIndex((event) => event.id === first.id);
      if (start < 0) return undefined;
    }
    for (let i = 0; i < proposed.length; i++) {
      if (existing[start + i]?.id !== proposed[i]!.id) return 'corrupted';
    }
    const last = existing[start + proposed.length - 1]!;
    return { kind: 'idempotent', lastRevision: last.revision, position: last.position };
  }

  /**
   * Lays the events out like prepare records in a transaction file. A single event commits
   * itself (commit = prepare, as EventStoreDB does for every gRPC append); several events get
   * one trailing commit record, as EventStoreDB's explicit transactions did, so their commit
   * differs from their prepare and the `{commit, prepare}` mapping is really exercised.
   */
  #write(stream: string, existing: StoredEvent[], proposed: readonly ProposedEvent[]): StoredEvent[] {
    const createdTicks = BigInt(Date.now()) * 10_000n;
    const prepares = proposed.map((event) => {
      const prepare = this.#nextOffset;
      this.#nextOffset += recordSize(stream, event);
      return prepare;
    });
    let commit: bigint | undefined;
    if (proposed.length > 1) {
      commit = this.#nextOffset;
      this.#nextOffset += COMMIT_RECORD_BYTES;
    }
    // Other writers (system streams, scavenges) leave records between ours.
    this.#nextOffset += SYSTEM_GAP_BYTES;
    if (!this.#streams.has(stream)) this.#streams.set(stream, existing);
    return proposed.map((event, index) => {
      const prepare = prepares[index]!;
      const stored: StoredEvent = {
        ...event,
        stream,
        revision: existing.length,
        createdTicks,
        position: { commit: commit ?? prepare, prepare },
      };
      existing.push(stored);
      this.#events.push(stored);
      return stored;
    });
  }
}

export function compareLogPositions(a: LogPosition, b: LogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

function recordSize(stream: string, event: ProposedEvent): bigint {
  return (
    PREPARE_HEADER_BYTES +
    BigInt(Buffer.byteLength(stream) + Buffer.byteLength(event.type) + event.data.length + event.metadata.length)
  );
}
