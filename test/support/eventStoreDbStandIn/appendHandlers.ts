import { createRequire } from 'node:module';
import { type handleBidiStreamingCall, type handleClientStreamingCall, status } from '@grpc/grpc-js';
import type {
  AppendReq,
  AppendResp as AppendRespMessage,
  BatchAppendReq,
  BatchAppendResp as BatchAppendRespMessage,
} from '@eventstore/db-client/generated/streams_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type { Empty as GoogleEmptyMessage } from 'google-protobuf/google/protobuf/empty_pb.js';
import {
  AppendResp,
  BatchAppendResp,
  Empty,
  maxAppendSizeExceededError,
  parseUuid,
  streamDeletedError,
  statusWithDetails,
  streamNameOf,
  toStreamIdentifier,
  WrongExpectedVersion,
  writeWithBackpressure,
} from './protocol.ts';
import type { AppendFaults } from './appendFaults.ts';
import type { AppendOutcome, ExpectedVersion, ProposedEvent, StandInLog } from './standInLog.ts';

// BatchAppend's messages use `google.protobuf.Empty`; take it from the client's protobuf runtime.
const requireFromClient = createRequire(createRequire(import.meta.url).resolve('@eventstore/db-client'));
const { Empty: GoogleEmpty } = requireFromClient('google-protobuf/google/protobuf/empty_pb.js') as {
  Empty: new () => GoogleEmptyMessage;
};

/** What the server lets one append carry unless configured otherwise (`MaxAppendSize`, 1 MiB). */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;

/**
 * The size an append is measured by: KurrentDB's `Streams.Append`/`BatchAppend` add up
 * `Event.SizeOnDisk(type, data, metadata)` per proposed message and refuse the append with
 * `MaximumAppendSizeExceeded` once the sum passes `MaxAppendSize`.
 */
export function appendSize(events: readonly ProposedEvent[]): number {
  return events.reduce((sum, event) => sum + event.data.length + event.metadata.length + Buffer.byteLength(event.type), 0);
}

/** Every proposed message must name its type and content type, as the server requires. */
function toProposedEvent(message: AppendReq.ProposedMessage | BatchAppendReq.ProposedMessage): ProposedEvent {
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  const contentType = metadata.get('content-type');
  if (!type || !contentType) throw new Error('proposed message without type or content-type');
  return {
    id: parseUuid(message.getId()),
    type,
    contentType,
    data: message.getData_asU8(),
    metadata: message.getCustomMetadata_asU8(),
  };
}

/**
 * `Streams.Append`: client-streaming; options first, then one proposed message per event.
 * The client uses it against servers that do not advertise BatchAppend.
 */
export function appendHandler(log: StandInLog, faults: AppendFaults, maxAppendSize: number): handleClientStreamingCall<AppendReq, AppendRespMessage> {
  return (call, callback) => {
    let stream: string | undefined;
    let expected: ExpectedVersion | undefined;
    let requestOptions: AppendReq.Options | undefined;
    const events: ProposedEvent[] = [];
    let failed = false;
    call.on('data', (request: AppendReq) => {
      try {
        if (request.hasOptions()) {
          requestOptions = request.getOptions()!;
          stream = streamNameOf(requestOptions.getStreamIdentifier());
          expected = expectedOfAppend(requestOptions);
        } else if (request.hasProposedMessage()) {
          events.push(toProposedEvent(request.getProposedMessage()!));
        }
      } catch (error) {
        failed = true;
        callback({ code: status.INVALID_ARGUMENT, details: String(error) });
      }
    });
    call.on('end', () => {
      if (failed) return;
      if (stream === undefined || expected === undefined || !requestOptions) {
        callback({ code: status.INVALID_ARGUMENT, details: 'append without options' });
        return;
      }
      if (appendSize(events) > maxAppendSize) {
        callback(maxAppendSizeExceededError(maxAppendSize));
        return;
      }
      const fault = faults.take(stream);
      if (fault) {
        if (fault.written) log.append(stream, expected, events);
        callback({ code: status.DEADLINE_EXCEEDED, details: 'stand-in: the commit timed out' });
        return;
      }
      const outcome = log.append(stream, expected, events);
      if (outcome.kind === 'streamDeleted') callback(streamDeletedError(stream));
      else callback(null, toAppendResp(outcome, requestOptions));
    });
  };
}

function expectedOfAppend(options: AppendReq.Options): ExpectedVersion {
  if (options.hasRevision()) return BigInt(options.getRevision());
  if (options.hasNoStream()) return 'no_stream';
  if (options.hasStreamExists()) return 'stream_exists';
  return 'any';
}

function toAppendResp(outcome: Exclude<AppendOutcome, { kind: 'streamDeleted' }>, options: AppendReq.Options): AppendRespMessage {
  if (outcome.kind === 'wrongExpectedVersion') {
    const wrong = new AppendResp.WrongExpectedVersion();
    if (outcome.current === null) wrong.setCurrentNoStream(new Empty());
    else wrong.setCurrentRevision(String(outcome.current));
    if (options.hasRevision()) wrong.setExpectedRevision(options.getRevision());
    else if (options.hasNoStream()) wrong.setExpectedNoStream(new Empty());
    else if (options.hasStreamExists()) wrong.setExpectedStreamExists(new Empty());
    else wrong.setExpectedAny(new Empty());
    return new AppendResp().setWrongExpectedVersion(wrong);
  }
  const success = new AppendResp.Success();
  if (outcome.lastRevision < 0) success.setNoStream(new Empty());
  else success.setCurrentRevision(String(outcome.lastRevision));
  if (outcome.position) {
    success.setPosition(
      new AppendResp.Position()
        .setCommitPosition(outcome.position.commit.toString())
        .setPreparePosition(outcome.position.prepare.toString()),
    );
  } else success.setNoPosition(new Empty());
  return new AppendResp().setSuccess(success);
}

interface PendingBatch {
  readonly stream: string;
  readonly expected: ExpectedVersion;
  readonly options: BatchAppendReq.Options;
  readonly events: ProposedEvent[];
}

/**
 * `Streams.BatchAppend`: one long-lived duplex call carrying many appends, each identified
 * by a correlation id and possibly split over several requests (`is_final` on the last).
 * Failures travel as a `google.rpc.Status` whose details pack the reason, as the server does.
 */
export function batchAppendHandler(log: StandInLog, faults: AppendFaults, maxAppendSize: number): handleBidiStreamingCall<BatchAppendReq, BatchAppendRespMessage> {
  return (call) => {
    const pending = new Map<string, PendingBatch>();
    let writes = Promise.resolve();
    call.on('data', (request: BatchAppendReq) => {
      const correlationId = parseUuid(request.getCorrelationId());
      let stream = '';
      const respond = (response: BatchAppendRespMessage) => {
        response.setCorrelationId(request.getCorrelationId()).setStreamIdentifier(toStreamIdentifier(stream));
        writes = writes.then(async () => {
          await writeWithBackpressure(call, response);
        });
      };
      try {
        const options = request.getOptions();
        if (options) {
          pending.set(correlationId, {
            stream: streamNameOf(options.getStreamIdentifier()),
            expected: expectedOfBatch(options),
            options,
            events: [],
          });
        }
        const batch = pending.get(correlationId);
        if (!batch) return;
        stream = batch.stream;
        batch.events.push(...request.getProposedMessagesList().map(toProposedEvent));
        if (!request.getIsFinal()) return;
        pending.delete(correlationId);
        if (appendSize(batch.events) > maxAppendSize) {
          respond(
            new BatchAppendResp().setError(
              statusWithDetails(
                status.INVALID_ARGUMENT,
                `Maximum Append Size of ${maxAppendSize} Exceeded.`,
                new sharedPb.MaximumAppendSizeExceeded().setMaxappendsize(maxAppendSize),
                'event_store.client.MaximumAppendSizeExceeded',
              ),
            ),
          );
          return;
        }
        const fault = faults.take(batch.stream);
        if (fault) {
          if (fault.written) log.append(batch.stream, batch.expected, batch.events);
          respond(
            new BatchAppendResp().setError(
              statusWithDetails(status.DEADLINE_EXCEEDED, 'stand-in: the commit timed out', new sharedPb.Timeout(), 'event_store.client.Timeout'),
            ),
          );
          return;
        }
        respond(toBatchAppendResp(log.append(batch.stream, batch.expected, batch.events), batch));
      } catch (error) {
        pending.delete(correlationId);
        const badRequest = new sharedPb.BadRequest().setMessage(String(error));
        respond(
          new BatchAppendResp().setError(
            statusWithDetails(status.INVALID_ARGUMENT, String(error), badRequest, 'event_store.client.BadRequest'),
          ),
        );
      }
    });
    call.on('end', () => {
      void writes.then(() => call.end());
    });
  };
}

function expectedOfBatch(options: BatchAppendReq.Options): ExpectedVersion {
  if (options.hasStreamPosition()) return BigInt(options.getStreamPosition());
  if (options.hasNoStream()) return 'no_stream';
  if (options.hasStreamExists()) return 'stream_exists';
  return 'any';
}

function toBatchAppendResp(outcome: AppendOutcome, batch: PendingBatch): BatchAppendRespMessage {
  if (outcome.kind === 'streamDeleted') {
    const details = new sharedPb.StreamDeleted().setStreamIdentifier(toStreamIdentifier(batch.stream));
    return new BatchAppendResp().setError(
      statusWithDetails(status.FAILED_PRECONDITION, `Event stream '${batch.stream}' is deleted.`, details, 'event_store.client.StreamDeleted'),
    );
  }
  if (outcome.kind === 'wrongExpectedVersion') {
    const details = new WrongExpectedVersion();
    if (outcome.current === null) details.setCurrentNoStream(new GoogleEmpty());
    else details.setCurrentStreamRevision(String(outcome.current));
    const options = batch.options;
    if (options.hasStreamPosition()) details.setExpectedStreamPosition(options.getStreamPosition());
    else if (options.hasNoStream()) details.setExpectedNoStream(new GoogleEmpty());
    else if (options.hasStreamExists()) details.setExpectedStreamExists(new GoogleEmpty());
    else details.setExpectedAny(new GoogleEmpty());
    return new BatchAppendResp().setError(
      statusWithDetails(status.FAILED_PRECONDITION, 'WrongExpectedVersion', details, 'event_store.client.WrongExpectedVersion'),
    );
  }
  const success = new BatchAppendResp.Success();
  if (outcome.lastRevision < 0) success.setNoStream(new GoogleEmpty());
  else success.setCurrentRevision(String(outcome.lastRevision));
  if (outcome.position) {
    success.setPosition(
      new sharedPb.AllStreamPosition()
        .setCommitPosition(outcome.position.commit.toString())
        .setPreparePosition(outcome.position.prepare.toString()),
    );
  } else success.setNoPosition(new GoogleEmpty());
  return new BatchAppendResp().setSuccess(success);
}
