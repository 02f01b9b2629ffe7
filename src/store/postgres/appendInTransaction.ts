import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  type AppendResult,
  type ExpectedRevision,
  type StreamAppend,
  WrongExpectedRevisionError,
} from '../eventStore.ts';
import type { GlobalPosition } from '../position.ts';
import { LOCK_NAMESPACE } from './migrations.ts';
import { EVENTS, ORIGIN, rowPosition } from './rows.ts';

/** What became of one `appendToStreams` call of a group. */
export type CallOutcome =
  | { readonly kind: 'written'; readonly results: AppendResult[] }
  | { readonly kind: 'failed'; readonly error: Error }
  /** Shares an event id with an earlier call of the same group: run it in the next group. */
  | { readonly kind: 'deferred' };

interface StoredEvent {
  readonly stream: string;
  readonly revision: number;
  readonly position: GlobalPosition;
}

interface PlannedRow {
  readonly stream: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/**
 * Writes a group of `appendToStreams` calls inside the caller's open transaction (the caller
 * commits). Each call is all-or-nothing: a call whose stream is not at the expected revision
 * fails alone and writes nothing, the others of the group are written.
 *
 * The order of the steps matters for `$all` (see `readAllPage.ts`):
 * 1. Lock every stream of the group with transaction-scoped advisory locks, in one sorted
 *    order (so two nodes never deadlock). Advisory locks do not give the transaction an id,
 *    unlike row locks or any write; the id comes with the first insert, after the locks.
 *    Whoever appended to the stream before us has therefore committed before our
 *    transaction got its id, its id is smaller, and the stream's events stay in revision
 *    order in `$all`.
 * 2. Read the streams' heads and the event ids that already exist (a retried append), in one
 *    statement.
 * 3. Decide every call in order, each seeing the heads the earlier ones left.
 * 4. Insert every row of the group in one statement, in order.
 */
export async function appendInTransaction(
  client: pg.ClientBase,
  calls: readonly (readonly StreamAppend[])[],
  options: { readonly begin?: boolean } = {},
): Promise<CallOutcome[]> {
  const streams = [...new Set(calls.flatMap((call) => call.map((append) => append.stream)))];
  const ids = calls.flatMap((call) => call.flatMap((append) => append.events.map((event) => event.id)));
  await lockStreams(client, streams, options);

  // The streams' heads (rows without an id) and the events already stored under our ids.
  const found = await client.query<{ id: string | null; stream: string; revision: number; tx: string; position: string }>({
    name: 'statuscast-heads-and-ids',
    text: `SELECT NULL::text AS id, s.stream, e.revision, e.transaction_id::text AS tx, e.position
           FROM unnest($1::text[]) AS s(stream)
           CROSS JOIN LATERAL (
             SELECT revision, transaction_id, position FROM ${EVENTS}
             WHERE stream = s.stream ORDER BY revision DESC LIMIT 1
           ) AS e
           UNION ALL
           SELECT id, stream, revision, transaction_id::text, position FROM ${EVENTS} WHERE id = ANY($2::text[])`,
    values: [streams, ids],
  });
  const heads = new Map<string, StoredEvent>();
  const existing = new Map<string, StoredEvent>();
  for (const row of found.rows) {
    const stored = { stream: row.stream, revision: row.revision, position: rowPosition(row) };
    if (row.id === null) heads.set(row.stream, stored);
    else existing.set(row.id, stored);
  }

  const planned = new Set<string>();
  const rows: PlannedRow[] = [];
  const decided = calls.map((call) => decideCall(call, heads, existing, planned, rows));

  const written = new Map<string, GlobalPosition>();
  if (rows.length > 0) {
    const inserted = await client.query<{ id: string; tx: string; position: string }>({
      name: 'statuscast-insert-events',
      // WITH ORDINALITY … ORDER BY keeps the sequence in the order of the rows (revision order per stream).
      text: `INSERT INTO ${EVENTS} (stream, revision, id, type, data, metadata)
             SELECT stream, revision, id, type, data, metadata
             FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::json[], $6::json[])
                  WITH ORDINALITY AS r(stream, revision, id, type, data, metadata, n)
             ORDER BY n
             RETURNING id, transaction_id::text AS tx, position`,
      values: [
        rows.map((r) => r.stream),
        rows.map((r) => r.revision),
        rows.map((r) => r.id),
        rows.map((r) => r.type),
        rows.map((r) => r.data),
        rows.map((r) => r.metadata),
      ],
    });
    for (const row of inserted.rows) written.set(row.id, rowPosition(row));
  }
  return decided.map((decision) => (decision.kind === 'planned' ? { kind: 'written', results: decision.results(written) } : decision));
}

type Decision =
  | { readonly kind: 'planned'; results(written: ReadonlyMap<string, GlobalPosition>): AppendResult[] }
  | { readonly kind: 'failed'; readonly error: Error }
  | { readonly kind: 'deferred' };

/**
 * Decides one call against the heads the earlier calls of the group left. On success the
 * call's rows join `rows` and its heads become the group's; on failure nothing changes.
 */
function decideCall(
  call: readonly StreamAppend[],
  heads: Map<string, StoredEvent>,
  existing: ReadonlyMap<string, StoredEvent>,
  planned: Set<string>,
  rows: PlannedRow[],
): Decision {
  const callIds = call.flatMap((append) => append.events.map((event) => event.id));
  if (new Set(callIds).size !== callIds.length) {
    return { kind: 'failed', error: new TypeError('an append repeats an event id') };
  }
  if (callIds.some((id) => planned.has(id))) return { kind: 'deferred' };

  const callHeads = new Map<string, number>();
  const headOf = (stream: string) => callHeads.get(stream) ?? heads.get(stream)?.revision ?? -1;
  const callRows: PlannedRow[] = [];
  const answers: ((written: ReadonlyMap<string, GlobalPosition>) => AppendResult)[] = [];
  for (const append of call) {
    const actual = headOf(append.stream);
    const retried = retriedAppend(append, existing);
    if (retried === 'conflict') return { kind: 'failed', error: wrongRevision(append, actual) };
    if (retried) {
      const answer = { ...retried, nextExpectedRevision: actual };
      answers.push(() => answer);
      continue;
    }
    if (!expectationHolds(append.expectedRevision, actual)) return { kind: 'failed', error: wrongRevision(append, actual) };
    let revision = actual;
    const revisions: number[] = [];
    for (const event of append.events) {
      revision += 1;
      revisions.push(revision);
      callRows.push({
        stream: append.stream,
        revision,
        id: event.id,
        type: event.type,
        data: JSON.stringify(event.data),
        metadata: JSON.stringify(event.metadata),
      });
    }
    callHeads.set(append.stream, revision);
    const eventIds = append.events.map((event) => event.id);
    const previous = heads.get(append.stream)?.position ?? ORIGIN;
    answers.push((written) => {
      const positions = eventIds.map((id) => written.get(id)!);
      return {
        stream: append.stream,
        nextExpectedRevision: revision,
        position: positions.at(-1) ?? previous,
        written: revisions.map((r, i) => ({ revision: r, position: positions[i]! })),
      };
    });
  }

  for (const row of callRows) planned.add(row.id);
  rows.push(...callRows);
  for (const [stream, revision] of callHeads) {
    heads.set(stream, { stream, revision, position: heads.get(stream)?.position ?? ORIGIN });
  }
  return { kind: 'planned', results: (written) => answers.map((answer) => answer(written)) };
}

/**
 * A retried append (after a lost acknowledgement) whose events are all in place already is
 * answered from what is stored. Events only partly in place, or elsewhere, are a conflict.
 */
function retriedAppend(
  append: StreamAppend,
  existing: ReadonlyMap<string, StoredEvent>,
): Omit<AppendResult, 'nextExpectedRevision'> | 'conflict' | undefined {
  const found = append.events.map((event) => existing.get(event.id));
  if (found.every((event) => event === undefined)) return undefined;
  const first = found[0];
  if (!first) return 'conflict';
  const consistent = found.every((event, i) => event && event.stream === append.stream && event.revision === first.revision + i);
  // The expectation is checked against where the stream stood before the original append.
  if (!consistent || !expectationHolds(append.expectedRevision, first.revision - 1)) return 'conflict';
  const written = found.map((event) => ({ revision: event!.revision, position: event!.position }));
  return { stream: append.stream, position: written.at(-1)!.position, written };
}

/** Whether the expectation holds for a stream whose last revision is `revision` (-1: no stream). */
function expectationHolds(expected: ExpectedRevision, revision: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return revision === -1;
  if (expected === 'stream_exists') return revision >= 0;
  return expected === revision;
}

function wrongRevision(append: StreamAppend, actual: number): WrongExpectedRevisionError {
  return new WrongExpectedRevisionError(append.stream, append.expectedRevision, actual === -1 ? 'no_stream' : actual);
}

/**
 * Takes the streams' append locks until the transaction ends (with `begin`, opens the
 * transaction first, in the same round trip). Gives the transaction no id: advisory locks are
 * held by the (virtual) transaction, not written anywhere. One statement per lock, in key
 * order: statements of one query string run in order, so every appender locks in the same
 * order. The keys are integers we computed, so writing them into the text is safe.
 */
export async function lockStreams(client: pg.ClientBase, streams: readonly string[], options: { readonly begin?: boolean } = {}): Promise<void> {
  const locks = streamLockKeys(streams).map((key) => `SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE.stream}, ${key});`);
  await client.query([...(options.begin ? ['BEGIN;'] : []), ...locks].join(' '));
}

/**
 * One 32-bit advisory-lock key per stream (a hash of its name), sorted and distinct: every
 * transaction takes its locks in the same order, so none waits for another in a cycle. Two
 * streams that share a key only wait for each other needlessly.
 */
function streamLockKeys(streams: readonly string[]): number[] {
  const keys = new Set(streams.map((stream) => createHash('sha1').update(stream).digest().readInt32BE(0)));
  return [...keys].sort((a, b) => a - b);
}
