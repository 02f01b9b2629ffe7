import { BACKWARDS, END, type EventStoreDBClient, type ResolvedEvent, StreamNotFoundError } from '@eventstore/db-client';
import { collect, type ReadStreamOptions, type RecordedEvent } from '../eventStore.ts';
import { toRevision } from './positions.ts';
import { pullReadable } from './pullReadable.ts';
import { toRecordedEvent } from './toRecordedEvent.ts';
import { translateError } from './translateError.ts';

/**
 * Reads a stream forwards in one server-streamed call; the client's read is a Node stream,
 * so a consumer that stops pulling stops the server through gRPC flow control. An absent
 * stream reads as empty.
 *
 * Stream reads require the leader (`requiresLeader`: the client sends `requires-leader:
 * true`, a follower answers `NotLeader` with the leader's endpoint and the client retries
 * there). Followers serve stale reads, and after a failover the client stays on the node it
 * had, now a follower: the command handler would decide on a stale stream (and conflict until
 * it gives up), and the read-back after an append would miss what was just written.
 */
export async function* readStreamFromClient(
  client: EventStoreDBClient,
  stream: string,
  options: ReadStreamOptions = {},
): AsyncGenerator<RecordedEvent> {
  if (options.maxCount !== undefined && options.maxCount <= 0) return;
  const read = client.readStream(stream, {
    requiresLeader: true,
    fromRevision: BigInt(options.fromRevision ?? 0),
    ...(options.maxCount === undefined ? {} : { maxCount: options.maxCount }),
  });
  const events = pullReadable<ResolvedEvent>(read);
  let finished = false;
  try {
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      if (next.value.event) yield toRecordedEvent(next.value.event);
    }
    finished = true;
  } catch (error) {
    finished = true;
    if (error instanceof StreamNotFoundError) return;
    throw translateError(error, undefined, stream);
  } finally {
    // A consumer that stopped early leaves the call open on the server; end it.
    if (!finished) {
      events.release();
      await read.cancel();
    }
  }
}

/** The revision of the newest event of a stream, or `null` when it does not exist. */
export async function streamRevisionFromClient(client: EventStoreDBClient, stream: string): Promise<number | null> {
  try {
    // Read to the end (one event at most) so the call finishes; see pullReadable.
    const [newest] = await collect(client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1, requiresLeader: true }));
    return newest?.event ? toRevision(newest.event.revision) : null;
  } catch (error) {
    if (error instanceof StreamNotFoundError) return null;
    throw translateError(error, undefined, stream);
  }
}
