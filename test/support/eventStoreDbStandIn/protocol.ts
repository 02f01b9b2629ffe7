import { createRequire } from 'node:module';
import { Metadata, type ServerErrorResponse, type ServerWritableStream, type ServerDuplexStream, status } from '@grpc/grpc-js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type { Any as AnyMessage } from 'google-protobuf/google/protobuf/any_pb.js';
import { type LogPosition, type StoredEvent, TOMBSTONE_REVISION } from './standInLog.ts';

/**
 * Message helpers for the stand-in, built on the protobuf classes generated inside
 * `@eventstore/db-client`, so the stand-in speaks exactly the wire format the client expects.
 */
export const { Empty, UUID, StreamIdentifier, WrongExpectedVersion } = sharedPb;
export const { ReadReq, ReadResp, AppendResp, BatchAppendResp } = streamsPb;
export const { Status } = statusPb;

// `google.protobuf.Any` comes from the protobuf runtime the client package depends on;
// resolve it from there instead of declaring a dependency of our own.
const requireFromClient = createRequire(createRequire(import.meta.url).resolve('@eventstore/db-client'));
const { Any } = requireFromClient('google-protobuf/google/protobuf/any_pb.js') as {
  Any: new () => AnyMessage;
};

export function parseUuid(uuid: InstanceType<typeof UUID> | undefined): string {
  if (!uuid) throw new Error('missing UUID');
  if (!uuid.hasStructured()) return uuid.getString();
  const structured = uuid.getStructured()!;
  const bytes = Buffer.alloc(16);
  bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
  bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function toUuid(id: string, structured: boolean): InstanceType<typeof UUID> {
  const uuid = new UUID();
  if (!structured) return uuid.setString(id);
  const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
  return uuid.setStructured(
    new UUID.Structured()
      .setMostSignificantBits(bytes.readBigInt64BE(0).toString())
      .setLeastSignificantBits(bytes.readBigInt64BE(8).toString()),
  );
}

export function streamNameOf(identifier: InstanceType<typeof StreamIdentifier> | undefined): string {
  if (!identifier) throw new Error('missing stream identifier');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

export function toStreamIdentifier(name: string): InstanceType<typeof StreamIdentifier> {
  return new StreamIdentifier().setStreamName(Buffer.from(name, 'utf8'));
}

/** An event as the server sends it in `ReadResp.event`, with its position and metadata map. */
export function toReadEventResponse(event: StoredEvent, uuidAsStructured: boolean): InstanceType<typeof ReadResp> {
  const recorded = new ReadResp.ReadEvent.RecordedEvent()
    .setId(toUuid(event.id, uuidAsStructured))
    .setStreamIdentifier(toStreamIdentifier(event.stream))
    .setStreamRevision(event.tombstone ? TOMBSTONE_REVISION.toString() : String(event.revision))
    .setCommitPosition(event.position.commit.toString())
    .setPreparePosition(event.position.prepare.toString())
    .setData(event.data)
    .setCustomMetadata(event.metadata);
  recorded
    .getMetadataMap()
    .set('type', event.type)
    .set('content-type', event.contentType)
    .set('created', event.createdTicks.toString());
  const readEvent = new ReadResp.ReadEvent().setEvent(recorded).setCommitPosition(event.position.commit.toString());
  return new ReadResp().setEvent(readEvent);
}

export function checkpointResponse(position: LogPosition): InstanceType<typeof ReadResp> {
  return new ReadResp().setCheckpoint(
    new ReadResp.Checkpoint()
      .setCommitPosition(position.commit.toString())
      .setPreparePosition(position.prepare.toString()),
  );
}

/** A `google.rpc.Status` whose details carry one packed message, as BatchAppend reports errors. */
export function statusWithDetails(
  code: number,
  message: string,
  details: { serializeBinary(): Uint8Array },
  typeName: string,
): InstanceType<typeof Status> {
  const packed = new Any();
  packed.pack(details.serializeBinary(), typeName);
  return new Status().setCode(code).setMessage(message).setDetails(packed);
}

/**
 * Writes one message and waits for the transport to drain when its buffer is full, so a
 * client that stops reading slows the stand-in down instead of growing its memory.
 * Resolves to whether it had to wait.
 */
export async function writeWithBackpressure<T>(
  call: ServerWritableStream<unknown, T> | ServerDuplexStream<unknown, T>,
  message: T,
): Promise<boolean> {
  if (call.write(message)) return false;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('close', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
    call.on('cancelled', done);
  });
  return true;
}

/**
 * The errors the server raises outside a BatchAppend response, as KurrentDB's
 * `RpcExceptions` builds them: a status plus `exception` metadata that the client's
 * `convertToCommandError` reads (`StreamDeletedError` takes `stream-name`,
 * `MaxAppendSizeExceededError` takes `maximum-append-size`).
 */
export function streamDeletedError(stream: string): ServerErrorResponse {
  const metadata = new Metadata();
  metadata.set('exception', 'stream-deleted');
  metadata.set('stream-name', stream);
  return { name: 'StreamDeleted', message: `Event stream '${stream}' is deleted.`, code: status.FAILED_PRECONDITION, details: `Event stream '${stream}' is deleted.`, metadata };
}

export function maxAppendSizeExceededError(maxAppendSize: number): ServerErrorResponse {
  const metadata = new Metadata();
  metadata.set('exception', 'maximum-append-size-exceeded');
  metadata.set('maximum-append-size', String(maxAppendSize));
  const message = `Maximum Append Size of ${maxAppendSize} Exceeded.`;
  return { name: 'MaximumAppendSizeExceeded', message, code: status.INVALID_ARGUMENT, details: message, metadata };
}
