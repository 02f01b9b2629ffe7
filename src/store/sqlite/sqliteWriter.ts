import type Database from 'better-sqlite3';
import {
  type AppendResult,
  type ExpectedRevision,
  type StreamAppend,
  WrongExpectedRevisionError,
} from '../eventStore.ts';
import { type GlobalPosition, position } from '../position.ts';

/**
 * What became of one `appendToStreams` call of a group. Plain data, so that it crosses from
 * the writer thread by structured clone (positions are bigints, which clone as they are).
 */
export type CallOutcome =
  | { readonly ok: AppendResult[] }
  | { readonly conflict: { stream: string; expected: ExpectedRevision; actual: number | 'no_stream' } }
  /** The call alone was refused by the database (a constraint), the rest of the group was not. */
  | { readonly failed: string };

export interface SqliteWriter {
  /**
   * Writes a group of calls in one transaction, so one fsync makes them all durable. Each call
   * has its own savepoint: one that conflicts or breaks a constraint fails alone, neither
   * failing nor half-writing the others. Throws when the transaction as a whole fails (I/O,
   * a lock held too long by another process): then nothing of the group was written.
   */
  writeGroup(calls: readonly (readonly StreamAppend[])[], recordedAt: number): CallOutcome[];
}

/** The write half of the embedded store, on whichever thread owns the connection. */
export function createSqliteWriter(db: Database.Database): SqliteWriter {
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
  const headPositionStmt = db.prepare<[], { position: number | null }>('SELECT max(position) AS position FROM events');

  function currentRevision(stream: string): number | 'no_stream' {
    return headOfStream.get(stream)?.revision ?? 'no_stream';
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
    const head = headPositionStmt.get()?.position;
    return {
      stream: append.stream,
      nextExpectedRevision: revision,
      position: last?.position ?? position(BigInt(head ?? 0)),
      written,
    };
  }

  const writeCall = db.transaction((appends: readonly StreamAppend[], recordedAt: number) =>
    appends.map((append) => writeOne(append, recordedAt)),
  );
  const writeGroup = db.transaction((calls: readonly (readonly StreamAppend[])[], recordedAt: number) =>
    calls.map((appends): CallOutcome => {
      try {
        return { ok: writeCall(appends, recordedAt) };
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) {
          return { conflict: { stream: error.stream, expected: error.expected, actual: error.actual } };
        }
        if (isConstraintError(error)) return { failed: (error as Error).message };
        throw error;
      }
    }),
  );

  return { writeGroup: (calls, recordedAt) => writeGroup(calls, recordedAt) };
}

/** A constraint is about the call's own rows; any other database error is about the database. */
function isConstraintError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}

function expectedMatchesRetry(expected: ExpectedRevision, firstRevision: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return firstRevision === 0;
  if (expected === 'stream_exists') return firstRevision > 0;
  return expected === firstRevision - 1;
}
