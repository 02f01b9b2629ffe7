import { frameMessage } from './textMessageFormat.ts';

/** Hub message `type` values of the JSON hub protocol. */
export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const;

export interface InvocationMessage {
  readonly type: typeof MessageType.Invocation | typeof MessageType.StreamInvocation;
  readonly invocationId: string | undefined;
  readonly target: string;
  readonly arguments: readonly unknown[];
  readonly streamIds: readonly string[];
}

/** The messages a client may send after the handshake, validated. */
export type ClientMessage =
  | InvocationMessage
  | { readonly type: typeof MessageType.StreamItem; readonly invocationId: string }
  | { readonly type: typeof MessageType.Completion; readonly invocationId: string }
  | { readonly type: typeof MessageType.CancelInvocation; readonly invocationId: string }
  | { readonly type: typeof MessageType.Ping }
  | { readonly type: typeof MessageType.Close }
  | { readonly type: typeof MessageType.Ack | typeof MessageType.Sequence; readonly sequenceId: number };

/** The peer broke the protocol; the connection is closed with `message` as the error. */
export class ProtocolError extends Error {}

/** Types 1–5 are numbered, buffered and replayed by stateful reconnect; the rest never are. */
export function isTrackable(type: number): boolean {
  return type >= MessageType.Invocation && type <= MessageType.CancelInvocation;
}

/** Parses and validates one client message (without its record separator). */
export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('Invalid JSON in hub message.');
  }
  if (!isRecord(value)) throw new ProtocolError('A hub message must be a JSON object.');
  const type = value['type'];
  switch (type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      return parseInvocation(value, type);
    case MessageType.StreamItem:
    case MessageType.Completion:
    case MessageType.CancelInvocation:
      return { type, invocationId: requireString(value, 'invocationId') };
    case MessageType.Ping:
    case MessageType.Close:
      return { type };
    case MessageType.Ack:
    case MessageType.Sequence: {
      const sequenceId = value['sequenceId'];
      if (typeof sequenceId !== 'number' || !Number.isSafeInteger(sequenceId) || sequenceId < 0) {
        throw new ProtocolError(`'sequenceId' must be a non-negative integer.`);
      }
      return { type, sequenceId };
    }
    default:
      throw new ProtocolError(`Unknown hub message type: ${JSON.stringify(type) ?? 'missing'}.`);
  }
}

function parseInvocation(value: Record<string, unknown>, type: InvocationMessage['type']): InvocationMessage {
  const id = value['invocationId'];
  if (id !== undefined && id !== null && typeof id !== 'string') {
    throw new ProtocolError(`'invocationId' must be a string.`);
  }
  if (type === MessageType.StreamInvocation && typeof id !== 'string') {
    throw new ProtocolError(`A stream invocation needs an 'invocationId'.`);
  }
  const args = value['arguments'];
  if (!Array.isArray(args)) throw new ProtocolError(`'arguments' must be an array.`);
  const streamIds = value['streamIds'] ?? [];
  if (!Array.isArray(streamIds) || !streamIds.every((s) => typeof s === 'string')) {
    throw new ProtocolError(`'streamIds' must be an array of strings.`);
  }
  return {
    type,
    invocationId: typeof id === 'string' ? id : undefined,
    target: requireString(value, 'target'),
    arguments: args,
    streamIds,
  };
}

function requireString(value: Record<string, unknown>, key: string): string {
  const field = value[key];
  if (typeof field !== 'string') throw new ProtocolError(`'${key}' must be a string.`);
  return field;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{"type":1,"target":…,"arguments":[<argumentJson>]}<RS>` from an already serialized argument. */
export function invocationFrame(target: string, argumentJson: string): string {
  return frameMessage(`{"type":1,"target":${JSON.stringify(target)},"arguments":[${argumentJson}]}`);
}

/** A Completion: with `result` (omitted when undefined: a void method) or with `error`. */
export function completionFrame(invocationId: string, outcome: { result?: unknown } | { error: string }): string {
  return frameMessage(JSON.stringify({ type: MessageType.Completion, invocationId, ...outcome }));
}

export const PING_FRAME = frameMessage(JSON.stringify({ type: MessageType.Ping }));
/** `PING_FRAME` as UTF-8, shared: the heartbeat pings idle connections in one pass, framed once. */
export const PING_ENCODED = Buffer.from(PING_FRAME, 'utf8');

export function closeFrame(options: { error?: string | undefined; allowReconnect?: boolean | undefined }): string {
  const message: Record<string, unknown> = { type: MessageType.Close };
  if (options.error !== undefined) message['error'] = options.error;
  if (options.allowReconnect) message['allowReconnect'] = true;
  return frameMessage(JSON.stringify(message));
}

export function ackFrame(sequenceId: number): string {
  return frameMessage(JSON.stringify({ type: MessageType.Ack, sequenceId }));
}

export function sequenceFrame(sequenceId: number): string {
  return frameMessage(JSON.stringify({ type: MessageType.Sequence, sequenceId }));
}
