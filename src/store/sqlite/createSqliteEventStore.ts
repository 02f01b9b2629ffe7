import Database from 'better-sqlite3';
import { AppendSignal } from '../appendSignal.ts';
import {
  type AllSubscription,
  type AllSubscriptionItem,
  type AppendResult,
  type EventStore,
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
import { inlineCommitter, threadCommitter } from './sqliteCommitter.ts';
import type { CallOutcome } from './sqliteWriter.ts';

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
  /**
   * Commit on a worker thread with a connection of its own, so the event loop keeps serving
   * while the disk flushes. Defaults to true for a file, false for `:memory:` (a second
   * connection would open a different database).
   */
  readonly writerThread?: boolean;
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
 * Appends use group commit: every `appendToStreams` call that arrives while a commit is under
 * way (or in the same turn of the event loop) is written in the next transaction (each call
 * inside its own savepoint, so a conflicting call fails alone) and fsynced once. The commit
 * runs on a writer thread (`sqliteCommitter.ts`), so the event loop keeps taking requests
 * while the disk flushes. That is what makes durable single-message ingest fast without
 * giving up `synchronous=FULL`. Reads stay on this thread's connection; WAL lets them run
 * beside the writer, and a commit becomes visible to them only once it is durable.
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const pageSize = options.pageSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const db = openSqliteEventDatabase(Database, options.file, options.sync ?? 'full');
  db.defaultSafeIntegers(false);

  const headOfStream = db.prepare<[string], { revision: number | null }>(
    'SELECT max(revision) AS revision FROM events WHERE stream = ?',
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
  const committer =
    options.writerThread ?? options.file !== ':memory:'
      ? threadCommitter(options.file, options.sync ?? 'full')
      : inlineCommitter(db);
  let pending: PendingAppend[] = [];
  let flushScheduled = false;
  let committing = false;
  const drained: (() => void)[] = [];
  let closing = false;
  let closed = false;
  const openSubscriptions = new Set<AllSubscription>();

  function currentRevision(stream: string): number | 'no_stream' {
    const row = headOfStream.get(stream);
    return row?.revision ?? 'no_stream';
  }

  /** Sends everything that arrived since the last commit as one group; one commit at a time. */
  async function flush(): Promise<void> {
    flushScheduled = false;
    if (committing) return;
    if (pending.length === 0) {
      for (const wake of drained.splice(0)) wake();
      return;
    }
    const group = pending;
    pending = [];
    committing = true;
    let outcomes: CallOutcome[];
    try {
      outcomes = await committer.commit(
        group.map((call) => call.appends),
        Date.now(),
      );
    } catch (cause) {
      const error = new StoreUnavailableError('the embedded event store could not commit', { cause });
      for (const call of group) call.reject(error);
      return;
    } finally {
      committing = false;
      // What arrived during this commit goes in the next one, after this turn's arrivals join it.
      if (pending.length > 0) scheduleFlush();
      else for (const wake of drained.splice(0)) wake();
    }
    outcomes.forEach((outcome, index) => {
      const call = group[index]!;
      if ('ok' in outcome) call.resolve(outcome.ok);
      else if ('conflict' in outcome) {
        const { stream, expected, actual } = outcome.conflict;
        call.reject(new WrongExpectedRevisionError(stream, expected, actual));
      } else call.reject(new StoreUnavailableError(`the embedded event store refused the append: ${outcome.failed}`));
    });
    signal.notify();
  }

  function scheduleFlush(): void {
    if (flushScheduled || committing) return;
    flushScheduled = true;
    setImmediate(() => void flush());
  }

  /** Resolves once every accepted append has been committed (or refused). */
  function drain(): Promise<void> {
    if (!committing && !flushScheduled && pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => drained.push(resolve));
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
      if (closing) return Promise.reject(new StoreUnavailableError('the embedded event store is closed'));
      return new Promise((resolve, reject) => {
        pending.push({ appends, resolve, reject });
        scheduleFlush();
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
      if (closing) return;
      closing = true;
      await drain();
      await committer.close();
      closed = true;
      await Promise.all([...openSubscriptions].map((s) => s.close()));
      signal.notify();
      db.close();
    },
  };
}
