import { createHash } from 'node:crypto';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { parseTraceContext } from '../../observability/traceContext.ts';
import type { TraceContext } from '../../transports/liveFeed/types.ts';
import type { IngestContext } from '../ingestStatus.ts';

/** Longest `message_id` the schema accepts (contract §3). */
const MAX_MESSAGE_ID = 128;

/** What one Service Bus message becomes for the shared ingest function. */
export interface IngestInput {
  readonly body: unknown;
  readonly context: IngestContext;
  /** The message's `messageId` as text, for logs and as the idempotency key; absent when the sender set none. */
  readonly messageKey: string | undefined;
}

/**
 * Builds the ingest call for one received message. `messageId` is the idempotency key of a
 * body that carries none: a single message gets it through `fallbackMessageId`; in a
 * `{ messages: [...] }` body each entry without a `message_id` gets `<messageId>:<index>`,
 * so that a redelivered batch (after a crash between append and settlement) is recognised
 * entry by entry instead of appended again. Trace context comes from the application
 * properties `traceparent`/`tracestate`, or `Diagnostic-Id` as the Azure SDKs set it.
 */
export function ingestInputFor(message: ServiceBusReceivedMessage, value: unknown, ingestedBy: string): IngestInput {
  const messageKey = messageIdText(message.messageId);
  const trace = traceContextOf(message.applicationProperties);
  const context: IngestContext = {
    source: 'servicebus',
    ingestedBy,
    ...(trace && { trace }),
    ...(messageKey !== undefined && { fallbackMessageId: messageKey }),
  };
  return { body: messageKey === undefined ? value : withDerivedMessageIds(value, messageKey), context, messageKey };
}

/** `messageId` as text no longer than a `message_id` may be (long binary ids are hashed). */
export function messageIdText(id: ServiceBusReceivedMessage['messageId']): string | undefined {
  let text: string | undefined;
  if (typeof id === 'string') text = id;
  else if (typeof id === 'number' || typeof id === 'bigint') text = String(id);
  else if (id instanceof Uint8Array) text = Buffer.from(id).toString('hex');
  if (text === undefined || text === '') return undefined;
  return text.length <= MAX_MESSAGE_ID ? text : `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

function traceContextOf(properties: ServiceBusReceivedMessage['applicationProperties']): TraceContext | undefined {
  if (!properties) return undefined;
  const lookup = (name: string): string | undefined => {
    for (const [key, value] of Object.entries(properties)) {
      if (key.toLowerCase() === name && typeof value === 'string') return value;
    }
    return undefined;
  };
  return parseTraceContext(lookup('traceparent') ?? lookup('diagnostic-id'), lookup('tracestate'));
}

function withDerivedMessageIds(value: unknown, messageKey: string): unknown {
  if (!isRecord(value) || !Array.isArray(value['messages'])) return value;
  const messages = value['messages'] as unknown[];
  if (!messages.some((entry) => isRecord(entry) && entry['message_id'] == null)) return value;
  return {
    ...value,
    messages: messages.map((entry, index) =>
      isRecord(entry) && entry['message_id'] == null ? { ...entry, message_id: derivedId(messageKey, index) } : entry,
    ),
  };
}

function derivedId(messageKey: string, index: number): string {
  const suffix = `:${index}`;
  const base =
    messageKey.length + suffix.length <= MAX_MESSAGE_ID
      ? messageKey
      : `sha256:${createHash('sha256').update(messageKey).digest('hex')}`;
  return `${base}${suffix}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
