import { isValidJobId } from '../../domain/job/jobId.ts';
import { decodePosition, type GlobalPosition } from '../../store/position.ts';
import { HubError } from '@statuscast/signalr-server';

function invalid(method: string, detail: string): HubError {
  return new HubError(`Invalid arguments for '${method}': ${detail}`);
}

function checkCount(method: string, args: readonly unknown[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw invalid(method, `expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}.`);
  }
}

function jobId(method: string, value: unknown): string {
  if (typeof value !== 'string' || !isValidJobId(value)) throw invalid(method, 'job_id must be 1-128 characters of [A-Za-z0-9._:-].');
  return value;
}

/** `Subscribe(job_id, after_revision?)`; an omitted or null revision means the full history. */
export function subscribeArguments(args: readonly unknown[]): { jobId: string; afterRevision: number | null } {
  checkCount('Subscribe', args, 1, 2);
  const after = args[1];
  if (after !== undefined && after !== null && !(typeof after === 'number' && Number.isSafeInteger(after) && after >= 0)) {
    throw invalid('Subscribe', 'after_revision must be a non-negative integer or null.');
  }
  return { jobId: jobId('Subscribe', args[0]), afterRevision: typeof after === 'number' ? after : null };
}

/** `Unsubscribe(job_id)`. */
export function unsubscribeArguments(args: readonly unknown[]): { jobId: string } {
  checkCount('Unsubscribe', args, 1, 1);
  return { jobId: jobId('Unsubscribe', args[0]) };
}

/** `SubscribeFeed(after_position?)`; an omitted or null position means "from now on". */
export function subscribeFeedArguments(args: readonly unknown[]): { after: GlobalPosition | null } {
  checkCount('SubscribeFeed', args, 0, 1);
  const value = args[0];
  if (value === undefined || value === null) return { after: null };
  const after = typeof value === 'string' ? decodePosition(value) : undefined;
  if (after === undefined) throw invalid('SubscribeFeed', 'after_position must be a position string from this service, or null.');
  return { after };
}
