import type { Logger } from 'pino';
import { UnavailableError, ValidationError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { StoreUnavailableError, WrongExpectedRevisionError } from '../store/eventStore.ts';
import type { CommandEnvelope, CommandOutcome, JobCommandHandler } from '../store/handleJobCommands.ts';
import { encodePosition } from '../store/position.ts';
import type { TraceContext } from '../transports/liveFeed/types.ts';
import { withDerivedMessageIds } from './derivedMessageIds.ts';
import { parseStatusBody } from './statusMessageSchema.ts';

/** Where a batch came from and who sent it; stored in every event's metadata. */
export interface IngestContext {
  readonly source: 'http' | 'servicebus';
  /** The publisher's user id (HTTP) or the subscription name (Service Bus). */
  readonly ingestedBy: string;
  readonly trace?: TraceContext;
  /** Idempotency key for a single message that carries none (Service Bus `messageId`). */
  readonly fallbackMessageId?: string;
}

/** The per-message answer of contract §3. */
export type IngestResult = {
  readonly message_id: string | null;
  readonly job_id: string;
} & (
  | { readonly outcome: 'appended'; readonly revision: number; readonly position: string }
  | { readonly outcome: 'duplicate'; readonly revision: number }
  | { readonly outcome: 'dropped' | 'rejected'; readonly reason: string }
);

export type IngestStatus = (body: unknown, context: IngestContext) => Promise<IngestResult[]>;

/**
 * The single ingest path shared by HTTP and Service Bus: validate all-or-nothing, decide
 * and append durably, report an outcome per message. Throws `ValidationError` (nothing
 * appended) or `UnavailableError` (the store failed; nothing acknowledged).
 */
export function createIngestStatus(deps: {
  handler: JobCommandHandler;
  logger: Logger;
  metrics: Metrics;
}): IngestStatus {
  const { handler, logger, metrics } = deps;
  return async (body, context) => {
    const parsed = parseStatusBody(body);
    if (!parsed.ok) throw new ValidationError('One or more status messages are invalid; nothing was appended.', parsed.errors);
    const commands = withDerivedMessageIds(
      context.fallbackMessageId && parsed.commands.length === 1 && parsed.commands[0]!.data.message_id === null
        ? [{ ...parsed.commands[0]!, data: { ...parsed.commands[0]!.data, message_id: context.fallbackMessageId } }]
        : parsed.commands,
    );
    const envelopes: CommandEnvelope[] = commands.map((command) => ({
      command,
      metadata: {
        message_id: command.data.message_id,
        ...(context.trace && { traceparent: context.trace.traceparent }),
        ...(context.trace?.tracestate && { tracestate: context.trace.tracestate }),
        ingested_by: context.ingestedBy,
        source: context.source,
      },
    }));
    let outcomes: CommandOutcome[];
    try {
      outcomes = await handler.handle(envelopes);
    } catch (error) {
      if (error instanceof StoreUnavailableError || error instanceof WrongExpectedRevisionError) {
        logger.error({ err: error, messages: envelopes.length }, 'ingest failed; nothing acknowledged');
        throw new UnavailableError('The event store is unavailable; nothing was acknowledged. Retry later.');
      }
      throw error;
    }
    return outcomes.map((outcome, index) => {
      const { job_id, message_id } = commands[index]!.data;
      metrics.ingestMessages.inc({ outcome: outcome.outcome, source: context.source });
      if (outcome.outcome === 'dropped' || outcome.outcome === 'rejected') {
        logger.warn({ job_id, message_id, outcome: outcome.outcome, reason: outcome.reason }, 'status message not appended');
        return { message_id, job_id, outcome: outcome.outcome, reason: outcome.reason };
      }
      if (outcome.outcome === 'duplicate') return { message_id, job_id, outcome: 'duplicate', revision: outcome.revision };
      return { message_id, job_id, outcome: 'appended', revision: outcome.revision, position: encodePosition(outcome.position) };
    });
  };
}
