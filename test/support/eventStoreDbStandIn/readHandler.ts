import { type handleServerStreamingCall, type ServerWritableStream, status } from '@grpc/grpc-js';
import type { ReadReq as ReadReqMessage, ReadResp as ReadRespMessage } from '@eventstore/db-client/generated/streams_pb.js';
import { runAllSubscription, type SubscriptionRegistry } from './allSubscription.ts';
import { filterFrom, type StandInFilter } from './eventFilter.ts';
import { ReadReq, ReadResp, streamDeletedError, toReadEventResponse, toStreamIdentifier, streamNameOf, writeWithBackpressure } from './protocol.ts';
import { compareLogPositions, type LogPosition, type StandInLog, type StoredEvent } from './standInLog.ts';

type ReadCall = ServerWritableStream<ReadReqMessage, ReadRespMessage>;

/**
 * A lagging follower, as a client connected to one (`nodePreference=follower`, or left on
 * the old leader after a failover) sees it: reads that do not require the leader are served
 * from what the node has replicated so far. A read that carries the `requires-leader: true`
 * header (client 6.2 `Client.callArguments`, from `requiresLeader: true`) would be refused by
 * a follower with `NotLeader` and the leader's endpoint, and the client would retry on the
 * leader; with one endpoint the stand-in answers such a read from the leader's log directly.
 * Subscriptions are not affected.
 */
export interface FollowerView {
  visible(call: ReadCall): (event: StoredEvent) => boolean;
}

const { StreamOptionCase, CountOptionCase, ReadDirection } = ReadReq.Options;

/**
 * `Streams.Read`: one RPC that the server dispatches on (stream | $all) × (count |
 * subscription) × direction × filter. The stand-in implements stream reads, `$all` reads in
 * both directions with or without a filter, and `$all` subscriptions; stream subscriptions
 * answer UNIMPLEMENTED.
 */
export function readHandler(
  log: StandInLog,
  subscriptions: SubscriptionRegistry,
  follower: FollowerView,
): handleServerStreamingCall<ReadReqMessage, ReadRespMessage> {
  return (call) => {
    void read(call).catch((error: unknown) => {
      call.emit('error', { code: status.INTERNAL, details: `stand-in: ${String(error)}` });
    });
  };

  async function read(call: ReadCall): Promise<void> {
    const options = call.request.getOptions();
    if (!options?.hasUuidOption()) {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: 'uuid_option is required' });
      return;
    }
    const structuredIds = options.getUuidOption()!.hasStructured();
    const filter = filterFrom(options);
    const backwards = options.getReadDirection() === ReadDirection.BACKWARDS;
    const streamCase = options.getStreamOptionCase();
    const countCase = options.getCountOptionCase();

    if (streamCase === StreamOptionCase.STREAM && countCase === CountOptionCase.COUNT && !filter) {
      if ((await readStream(call, options, backwards, structuredIds)) === 'failed') return;
    } else if (streamCase === StreamOptionCase.ALL && countCase === CountOptionCase.COUNT) {
      await readAll(call, options, backwards, filter, structuredIds);
    } else if (streamCase === StreamOptionCase.ALL && countCase === CountOptionCase.SUBSCRIPTION && !backwards) {
      await runAllSubscription(call, log, subscriptions, { from: allStart(options), filter, structuredIds });
      return;
    } else {
      call.emit('error', { code: status.UNIMPLEMENTED, details: 'stand-in: this kind of read is not implemented' });
      return;
    }
    call.end();
  }

  async function readStream(call: ReadCall, options: ReadReqMessage.Options, backwards: boolean, structuredIds: boolean): Promise<'failed' | undefined> {
    const streamOptions = options.getStream()!;
    const name = streamNameOf(streamOptions.getStreamIdentifier());
    const visible = follower.visible(call);
    if (log.isDeleted(name)) {
      // A hard-deleted stream reads as an error, never as empty (`ReadStreamResult.StreamDeleted`).
      call.emit('error', streamDeletedError(name));
      return 'failed';
    }
    const all = log.streamEvents(name);
    const events = all && all.filter(visible);
    if (!events || (events.length === 0 && all!.length > 0)) {
      const notFound = new ReadResp.StreamNotFound().setStreamIdentifier(toStreamIdentifier(name));
      await writeWithBackpressure(call, new ReadResp().setStreamNotFound(notFound));
      return;
    }
    const last = events.length - 1;
    let index: number;
    if (streamOptions.hasStart()) index = 0;
    else if (streamOptions.hasEnd()) index = backwards ? last : events.length;
    else index = Math.min(Number(BigInt(streamOptions.getRevision())), backwards ? last : events.length);
    let remaining = countOf(options);
    while (remaining > 0 && index >= 0 && index < events.length && !call.cancelled) {
      await writeWithBackpressure(call, toReadEventResponse(events[index]!, structuredIds));
      index += backwards ? -1 : 1;
      remaining--;
    }
    return undefined;
  }

  /** `$all` reads include the event at the start position, unlike subscriptions. */
  async function readAll(
    call: ReadCall,
    options: ReadReqMessage.Options,
    backwards: boolean,
    filter: StandInFilter | null,
    structuredIds: boolean,
  ) {
    const all = options.getAll()!;
    const events = log.events.filter(follower.visible(call));
    let index: number;
    if (all.hasStart()) index = backwards ? -1 : 0;
    else if (all.hasEnd()) index = backwards ? events.length - 1 : events.length;
    else {
      const from = toLogPosition(all.getPosition()!);
      const firstAtOrAfter = events.findIndex((event) => compareLogPositions(event.position, from) >= 0);
      const boundary = firstAtOrAfter < 0 ? events.length : firstAtOrAfter;
      index = backwards ? boundary - 1 : boundary;
    }
    let remaining = countOf(options);
    while (remaining > 0 && index >= 0 && index < events.length && !call.cancelled) {
      const event: StoredEvent = events[index]!;
      index += backwards ? -1 : 1;
      if (filter && !filter.matches(event)) continue;
      await writeWithBackpressure(call, toReadEventResponse(event, structuredIds));
      remaining--;
    }
  }
}

function countOf(options: ReadReqMessage.Options): number {
  const count = BigInt(options.getCount());
  return count > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(count);
}

function allStart(options: ReadReqMessage.Options): 'start' | 'end' | LogPosition {
  const all = options.getAll()!;
  if (all.hasStart()) return 'start';
  if (all.hasEnd()) return 'end';
  return toLogPosition(all.getPosition()!);
}

function toLogPosition(position: ReadReqMessage.Options.Position): LogPosition {
  return { commit: BigInt(position.getCommitPosition()), prepare: BigInt(position.getPreparePosition()) };
}
