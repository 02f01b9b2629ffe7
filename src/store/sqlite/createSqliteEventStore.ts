import Database from 'better-sqlite3';
import { AppendSignal } from '../appendSignal.ts';
import {
  type AllSubscription,
  type AllSubscriptionItem,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  type StreamFilter,
  type SubscribeToAllOptions,
  StoreUnavailableError,
  WrongExpectedRevisionError,
} from '../eventStore.ts';
import { type GlobalPosition, position } from '../position.ts';
import { openSqliteEventDatabase, type SqliteSync } from './schema.ts';

export interface SqliteEventStoreOptions {
  /** Database file; `:memory:` for tests that need no durability. */
  readonly file: string;
  /** Defaults to `full`: an acknowledged append survives power loss, not only a crash. */
  readonly sync?: SqliteSync;
  /** Rows fetched per read page. Defaults to 500. */
  readonly pageSize?: number;
  /**
   * How often a caught-up subscription looks for appends made by another process on the
   * same file. Appends made through this instance wake subscribers at once. Defaults to 1 s.
   */
  readonly pollIntervalMs?: number;
}

interface EventRow {
  position: number | bigint;
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: number;
}

interface PendingAppend {
  readonly appends: readonly StreamAppend[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

/**
 * The embedded event store: one SQLite file in WAL mode.
 *
 * Appends use group commit: every `appendToStreams` call that arrives while the event loop
 * is busy is written in one transaction (each call inside its own savepoint, so a
 * conflicting call fails alone) and fsynced once. That is what makes durable single-message
 * ingest fast without giving up `synchronous=FULL`.
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const pageSize = options.pageSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const db = openSqliteEventDatabase(Database, options.file, options.sync ?? 'full');
  db.defaultSafeIntegers(false);

  const headOfStream = db.prepare<[string], { revision: number | null }>(
    'SELECT max(revision) AS revision FROM events WHERE stream = ?',
  );
  const findById = db.prepare<[string], { stream: string; revision: number; position: number }>(
    'SELECT stream, revision, position FROM events WHERE id = ?',
  );
  const insert = db.prepare(
    `INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at)
     VALUES (@stream, @revision, @id, @type, @data, @metadata, @recorded_at)`,
  );
  const readStreamPage = db.prepare<[string, number, number], EventRow>(
    'SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?',
  );
  const readAllPage = db.prepare<[number, number], EventRow>(
    'SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?',
  );
  const headPositionStmt = db.prepare<[], { position: number | null }>(
    'SELECT max(position) AS position FROM events',
  );

  const signal = new AppendSignal();
  let pending: PendingAppend[] = [];
  let flushScheduled = false;
  let closed = false;
  const openSubscriptions = new Set<AllSubscription>();

  function currentRevision(stream: string): number | 'no_stream' {
    const row = headOfStream.get(stream);
    return row?.revision ?? 'no_stream';
  }

  function checkExpected(append: StreamAppend, actual: number | 'no_stream'): void {
    const expected = append.expectedRevision;
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && actual === 'no_stream') ||
      (expected === 'stream_exists' && actual !== 'no_stream') ||
      (typeof expected === 'number' && expected === actual);
    if (!ok) throw new WrongExpectedRevisionError(append.stream, expected, actual);
  }

  /** A retried append whose event ids are all already in place succeeds without writing. */
  function idempotentResult(append: StreamAppend): AppendResult | undefined {
    const first = append.events[0];
    if (!first) return undefined;
    const found = findById.get(first.id);
    if (!found) return undefined;
    const written = append.events.map((event, index) => {
      const row = findById.get(event.id);
      if (!row || row.stream !== append.stream || row.revision !== found.revision + index) {
        throw new WrongExpectedRevisionError(append.stream, append.expectedRevision, currentRevision(append.stream));
      }
      return { revision: row.revision, position: position(BigInt(row.position)) };
    });
    if (!expectedMatchesRetry(append.expectedRevision, found.revision)) {
      throw new WrongExpectedRevisionError(append.stream, append.expectedRevision, currentRevision(append.stream));
    }
    const last = written[written.length - 1]!;
    return {
      stream: append.stream,
      nextExpectedRevision: currentRevision(append.stream) as number,
      position: last.position,
      written,
    };
  }

  function writeOne(append: StreamAppend, recordedAt: number): AppendResult {
    const retried = idempotentResult(append);
    if (retried) return retried;
    const actual = currentRevision(append.stream);
    checkExpected(append, actual);
    let revision = actual === 'no_stream' ? -1 : actual;
    const written: { revision: number; position: GlobalPosition }[] = [];
    for (const event of append.events) {
      revision += 1;
      const info = insert.run({
        stream: append.stream,
        revision,
        id: event.id,
        type: event.type,
        data: JSON.stringify(event.data),
        metadata: JSON.stringify(event.metadata),
        recorded_at: recordedAt,
      });
      written.push({ revision, position: position(BigInt(info.lastInsertRowid)) });
    }
    const last = written[written.length - 1];
    return {
      stream: append.stream,
      nextExpectedRevision: revision,
      position: last?.position ?? headPosition() ?? position(0n),
      written,
    };
  }

  const writeCall = db.transaction((appends: readonly StreamAppend[], recordedAt: number) =>
    appends.map((append) => writeOne(append, recordedAt)),
  );
  const writeGroup = db.transaction((group: readonly PendingAppend[], recordedAt: number) =>
    group.map((call): { ok: AppendResult[] } | { error: unknown } => {
      try {
        return { ok: writeCall(call.appends, recordedAt) };
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) return { error };
        throw error;
      }
    }),
  );

  function flush(): void {
    flushScheduled = false;
    const group = pending;
    pending = [];
    if (group.length === 0) return;
    let outcomes: ({ ok: AppendResult[] } | { error: unknown })[];
    try {
      outcomes = writeGroup(group, Date.now());
    } catch (cause) {
      const error = new StoreUnavailableError('the embedded event store could not commit', { cause });
      for (const call of group) call.reject(error);
      return;
    }
    outcomes.forEach((outcome, index) => {
      const call = group[index]!;
      if ('ok' in outcome) call.resolve(outcome.ok);
      else call.reject(outcome.error);
    });
    signal.notify();
  }

  function headPosition(): GlobalPosition | null {
    const row = headPositionStmt.get();
    return row?.position == null ? null : position(BigInt(row.position));
  }

  function toRecorded(row: EventRow): RecordedEvent {
    return {
      id: row.id,
      stream: row.stream,
      revision: row.revision,
      position: position(BigInt(row.position)),
      type: row.type,
      data: JSON.parse(row.data) as Record<string, unknown>,
      metadata: JSON.parse(row.metadata) as Record<string, unknown>,
      recordedAt: new Date(row.recorded_at),
    };
  }

  function matches(filter: StreamFilter | undefined, stream: string): boolean {
    return !filter || filter.streamNamePrefixes.some((prefix) => stream.startsWith(prefix));
  }

  function assertOpen(): void {
    if (closed) throw new StoreUnavailableError('the embedded event store is closed');
  }

  /** Reads pages so the connection is never held by an open iterator between yields. */
  async function* readStream(stream: string, opts: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    let from = opts.fromRevision ?? 0;
    let remaining = opts.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      assertOpen();
      const rows = readStreamPage.all(stream, from, Math.min(pageSize, remaining));
      for (const row of rows) yield toRecorded(row);
      if (rows.length < pageSize) return;
      remaining -= rows.length;
      from = rows[rows.length - 1]!.revision + 1;
    }
  }

  async function* readAll(opts: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    let after = opts.after === undefined || opts.after === 'start' ? 0 : Number(opts.after.commit);
    let remaining = opts.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      assertOpen();
      const rows = readAllPage.all(after, pageSize);
      for (const row of rows) {
        if (!matches(opts.filter, row.stream)) continue;
        yield toRecorded(row);
        if (--remaining <= 0) return;
      }
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]!.position);
    }
  }

  function subscribeToAll(opts: SubscribeToAllOptions): AllSubscription {
    let stopped = false;
    const stop = async () => {
      stopped = true;
      openSubscriptions.delete(subscription);
      signal.notify();
    };
    async function* follow(): AsyncGenerator<AllSubscriptionItem> {
      let after: number;
      if (opts.from === 'start') after = 0;
      else if (opts.from === 'end') after = Number(headPosition()?.commit ?? 0n);
      else after = Number(opts.from.commit);
      let caughtUp = false;
      try {
        while (!stopped && !closed) {
          const rows = readAllPage.all(after, pageSize);
          let lastDelivered = after;
          for (const row of rows) {
            if (stopped) return;
            after = Number(row.position);
            if (!matches(opts.filter, row.stream)) continue;
            lastDelivered = after;
            yield { kind: 'event', event: toRecorded(row) };
          }
          // Filtered-out rows still move the subscriber forward, so say how far it got.
          if (after > lastDelivered) yield { kind: 'checkpoint', position: position(BigInt(after)) };
          if (rows.length === pageSize) continue;
          if (!caughtUp) {
            caughtUp = true;
            yield { kind: 'caughtUp', position: after === 0 ? null : position(BigInt(after)) };
          }
          await signal.wait(pollIntervalMs);
        }
      } finally {
        openSubscriptions.delete(subscription);
      }
    }
    const iterator = follow();
    const subscription: AllSubscription = {
      [Symbol.asyncIterator]: () => iterator,
      close: stop,
    };
    openSubscriptions.add(subscription);
    return subscription;
  }

  return {
    appendToStreams(appends) {
      if (closed) return Promise.reject(new StoreUnavailableError('the embedded event store is closed'));
      return new Promise((resolve, reject) => {
        pending.push({ appends, resolve, reject });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    readStream,
    readAll,
    subscribeToAll,
    streamRevision: async (stream) => {
      assertOpen();
      const revision = currentRevision(stream);
      return revision === 'no_stream' ? null : revision;
    },
    headPosition: async () => {
      assertOpen();
      return headPosition();
    },
    async close() {
      if (closed) return;
      flush();
      closed = true;
      await Promise.all([...openSubscriptions].map((s) => s.close()));
      signal.notify();
      db.close();
    },
  };
}

function expectedMatchesRetry(expected: ExpectedRevision, firstRevision: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return firstRevision === 0;
  if (expected === 'stream_exists') return firstRevision > 0;
  return expected === firstRevision - 1;
}
