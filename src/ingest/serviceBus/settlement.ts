import type { FieldError } from '../../errors.ts';
import type { IngestResult } from '../ingestStatus.ts';

/** `deadLetterReason` values this consumer writes; stable, for alerts and DLQ tooling. */
export type DeadLetterReason = 'InvalidJson' | 'BodyTooLarge' | 'SchemaValidationFailed' | 'StatusRejected' | 'StatusDropped';

/** Why a message was abandoned (metrics and logs; abandon carries no reason to the broker). */
export type AbandonReason = 'store_unavailable' | 'unexpected_error' | 'stopping';

/** What to tell the broker about one message. */
export type Settlement =
  | { readonly kind: 'complete'; readonly reason: 'accepted' }
  | { readonly kind: 'abandon'; readonly reason: AbandonReason }
  | { readonly kind: 'deadLetter'; readonly reason: DeadLetterReason; readonly description: string };

/**
 * Longest `deadLetterErrorDescription` written. Application properties share the message's
 * header budget; 4096 is the bound the .NET SDK applies to both dead-letter fields.
 */
export const MAX_DESCRIPTION_CHARS = 4096;

/**
 * The settlement for a body the ingest function accepted. Appended and duplicate entries
 * are done. An entry the domain rejected (another owner, a finished job) or dropped (no
 * `user_id` for a job not registered yet) will not succeed on redelivery, and completing
 * would discard the only copy, so the message is dead-lettered with the per-entry reasons.
 * Entries of the same body that were appended stay appended: the description says so, and
 * resubmitting the message with the same `messageId` appends nothing twice.
 */
export function settlementForResults(results: readonly IngestResult[]): Settlement {
  const refused = results
    .map((result, index) => ({ result, index }))
    .filter((entry): entry is { result: IngestResult & { reason: string }; index: number } =>
      entry.result.outcome === 'rejected' || entry.result.outcome === 'dropped',
    );
  if (refused.length === 0) return { kind: 'complete', reason: 'accepted' };
  const reason: DeadLetterReason = refused.some((e) => e.result.outcome === 'rejected') ? 'StatusRejected' : 'StatusDropped';
  const accepted = results.length - refused.length;
  const lines = refused.map(({ result, index }) => {
    const where = results.length > 1 ? `[${index}] ` : '';
    return `${where}${result.job_id} ${result.outcome}: ${result.reason}`;
  });
  const head =
    results.length === 1
      ? 'the status message was not appended'
      : `${refused.length} of ${results.length} status messages were not appended` +
        (accepted > 0 ? ` (the other ${accepted} are durable; resubmitting with the same messageId appends nothing twice)` : '');
  return { kind: 'deadLetter', reason, description: truncate(`${head}: ${lines.join('; ')}`) };
}

/** The settlement for a body that failed the schema (`batch`: a `{ messages }` body): nothing was appended. */
export function settlementForInvalid(errors: readonly FieldError[], batch: boolean): Settlement {
  const lines = errors.map((e) => `${batch && e.index !== undefined ? `[${e.index}] ` : ''}${e.path || '(body)'}: ${e.message}`);
  return {
    kind: 'deadLetter',
    reason: 'SchemaValidationFailed',
    description: truncate(`the body failed the status message schema; nothing was appended: ${lines.join('; ')}`),
  };
}

function truncate(text: string): string {
  return text.length <= MAX_DESCRIPTION_CHARS ? text : `${text.slice(0, MAX_DESCRIPTION_CHARS - 1)}…`;
}
