import { type EventStoreDBClient, jsonEvent, type JSONType } from '@eventstore/db-client';
import { type AppendResult, collect, PartialAppendError, StoreUnavailableError, type StreamAppend } from '../eventStore.ts';
import { type GlobalPosition, position } from '../position.ts';
import { toClientExpectedRevision } from './expectedRevision.ts';
import { toRevision } from './positions.ts';
import { readStreamFromClient, streamRevisionFromClient } from './readStream.ts';
import { translateError } from './translateError.ts';

/**
 * Appends stream by stream, in order. EventStoreDB (through this client) has no
 * multi-stream transaction, so a failure part-way leaves the earlier streams written; the
 * call then rejects with `PartialAppendError` naming them. The server recognises a retry by
 * its event ids only when the retry names the same expected revision as the original
 * (KurrentDB `IndexWriter.CheckCommit`: ids are compared for `expectedVersion <
 * currentVersion`; at the current revision an append is simply written), so a caller must
 * not re-decide and append a written stream at its new revision: it uses `written` instead.
 */
export async function appendToStreamsWithClient(
  client: EventStoreDBClient,
  appends: readonly StreamAppend[],
  headPosition: () => Promise<GlobalPosition | null>,
): Promise<AppendResult[]> {
  const results: AppendResult[] = [];
  for (const append of appends) {
    try {
      results.push(await appendOne(client, append, headPosition));
    } catch (error) {
      throw results.length > 0 ? new PartialAppendError(results, error) : error;
    }
  }
  return results;
}

async function appendOne(
  client: EventStoreDBClient,
  append: StreamAppend,
  headPosition: () => Promise<GlobalPosition | null>,
): Promise<AppendResult> {
  const { stream, events, expectedRevision } = append;
  let lastRevision: number;
  try {
    const result = await client.appendToStream(
      stream,
      events.map((event) =>
        jsonEvent({
          id: event.id,
          type: event.type,
          data: event.data as JSONType,
          metadata: event.metadata as JSONType,
        }),
      ),
      { expectedRevision: toClientExpectedRevision(expectedRevision) },
    );
    lastRevision = toRevision(result.nextExpectedRevision);
  } catch (error) {
    throw translateError(error, { stream, expected: expectedRevision });
  }

  if (events.length === 0) {
    return { stream, nextExpectedRevision: lastRevision, position: (await headPosition()) ?? position(0n), written: [] };
  }

  // The append answer carries one position at most, and on an idempotent retry not the
  // events' own; read the events back (from the leader, see readStream) for the position of
  // each. One more event than we wrote tells whether the stream has moved on since (only
  // possible on a retry). The events are durable whatever this read finds: a read that does
  // not find them is the store failing to answer, never a 500 — a retry is recognised by id.
  const firstRevision = lastRevision - events.length + 1;
  const stored = await collect(readStreamFromClient(client, stream, { fromRevision: firstRevision, maxCount: events.length + 1 }));
  const written = events.map((event, index) => {
    const found = stored[index];
    if (!found || found.id !== event.id) {
      throw new StoreUnavailableError(`stream ${stream}: revision ${firstRevision + index} does not hold event ${event.id} right after appending it`);
    }
    return { revision: found.revision, position: found.position };
  });
  const head = stored.length > events.length ? ((await streamRevisionFromClient(client, stream)) ?? lastRevision) : lastRevision;
  return { stream, nextExpectedRevision: head, position: written[written.length - 1]!.position, written };
}
