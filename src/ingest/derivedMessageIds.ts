import { createHash } from 'node:crypto';
import type { ReportStatus } from '../domain/job/commands.ts';

/** Prefix of a `message_id` the service derived; a publisher's own ids never need it. */
export const DERIVED_MESSAGE_ID_PREFIX = 'auto:';

/**
 * Gives every message that carries no `message_id` one derived from its content: `auto:`
 * and 32 hex digits of a SHA-256 over the validated message (every field, keys sorted), with
 * `:<n>` appended for the n-th identical message of the same request. The same request sent
 * again (a publisher retrying after a 503 or a timeout) therefore carries the same ids, and
 * what the first attempt wrote is recognised as `duplicate` instead of appended twice. That
 * matters on EventStoreDB, which writes a multi-job batch job by job, and for any commit whose
 * answer was lost. Identical content sent in two requests is one message.
 */
export function withDerivedMessageIds(commands: readonly ReportStatus[]): ReportStatus[] {
  const seen = new Map<string, number>();
  return commands.map((command) => {
    if (command.data.message_id !== null) return command;
    const digest = createHash('sha256').update(canonicalJson(command.data)).digest('hex').slice(0, 32);
    const occurrence = seen.get(digest) ?? 0;
    seen.set(digest, occurrence + 1);
    const messageId = `${DERIVED_MESSAGE_ID_PREFIX}${digest}${occurrence === 0 ? '' : `:${occurrence}`}`;
    return { ...command, data: { ...command.data, message_id: messageId } };
  });
}

/** JSON with object keys sorted at every level, so equal content hashes equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
