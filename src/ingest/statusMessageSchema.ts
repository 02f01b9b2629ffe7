import { z } from 'zod';
import type { ReportStatus } from '../domain/job/commands.ts';
import { JOB_STATES } from '../domain/job/events.ts';
import { JOB_ID_PATTERN } from '../domain/job/jobId.ts';
import type { FieldError } from '../errors.ts';

/** Largest `details` object, serialized as JSON (contract §3). */
export const MAX_DETAILS_BYTES = 16 * 1024;
/**
 * Deepest nesting of `details` (objects and arrays). JSON of a few KB can nest thousands of
 * levels, and every recursive step after parsing (serializing, storing, sending) would then
 * overflow the stack: such a message is refused here, as invalid input.
 */
export const MAX_DETAILS_DEPTH = 32;
/** Largest batch in one request or Service Bus message (contract §3). */
export const MAX_BATCH_MESSAGES = 500;

const shortText = (max: number) => z.string().min(1).max(max);
const optional = <T extends z.ZodType>(schema: T) => schema.nullish();

/**
 * One status message as workers send it (contract §3). Unknown fields are an error, so a
 * misspelt field is reported instead of silently ignored.
 */
export const statusMessageSchema = z
  .object({
    message_id: optional(shortText(128)),
    job_id: z.string().regex(JOB_ID_PATTERN, 'must be 1..128 characters of [A-Za-z0-9._:-], and not "." or ".."'),
    user_id: optional(shortText(256)),
    stage: shortText(64),
    state: z.enum(JOB_STATES).default('running'),
    message: optional(z.string().max(4096)),
    artifact: optional(z.string().max(1024)),
    cycle: optional(z.number().int().min(0).max(1_000_000)),
    progress: optional(z.number().min(0).max(1)),
    details: optional(z.record(z.string(), z.unknown())),
    ts: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time, e.g. 2026-11-20T10:00:00.000Z' }),
    meta: optional(
      z
        .object({
          stage_order: optional(z.array(shortText(64)).max(100)),
          expected_cycles: optional(z.number().int().min(0).max(1_000_000)),
        })
        .strict(),
    ),
  })
  .strict();

export type StatusMessage = z.infer<typeof statusMessageSchema>;

export type ParsedMessages = { ok: true; commands: ReportStatus[] } | { ok: false; errors: FieldError[] };

/**
 * Validates a body holding one message or `{ messages: [...] }`, all or nothing: either
 * every message becomes a command, or the errors name each offending field with the
 * message's index.
 */
export function parseStatusBody(body: unknown): ParsedMessages {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail([{ path: '', message: 'body must be a status message object or { "messages": [ ... ] }' }]);
  }
  if (!('messages' in body)) return parseMessages([body]);
  const { messages, ...rest } = body as { messages: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) return fail([{ path: extra[0]!, message: 'unknown field next to "messages"' }]);
  if (!Array.isArray(messages)) return fail([{ path: 'messages', message: 'must be an array of status messages' }]);
  if (messages.length === 0) return fail([{ path: 'messages', message: 'must hold at least one message' }]);
  if (messages.length > MAX_BATCH_MESSAGES) {
    return fail([{ path: 'messages', message: `holds ${messages.length} messages; at most ${MAX_BATCH_MESSAGES} are allowed` }]);
  }
  return parseMessages(messages);
}

function parseMessages(messages: readonly unknown[]): ParsedMessages {
  const errors: FieldError[] = [];
  const commands: ReportStatus[] = [];
  messages.forEach((raw, index) => {
    const result = statusMessageSchema.safeParse(raw);
    if (!result.success) {
      for (const issue of result.error.issues) errors.push({ index, path: pathOf(issue), message: issue.message });
      return;
    }
    const details = result.data.details ?? {};
    // First, and without recursion: every later step over `details` recurses.
    if (nestingDepth(details) > MAX_DETAILS_DEPTH) {
      errors.push({ index, path: 'details', message: `must not be nested deeper than ${MAX_DETAILS_DEPTH} levels` });
      return;
    }
    const illFormed = illFormedString(raw, []);
    if (illFormed) {
      errors.push({ index, path: illFormed, message: 'must be valid Unicode text (a lone surrogate \\uD800–\\uDFFF cannot be stored in the audit chain)' });
      return;
    }
    if (Buffer.byteLength(JSON.stringify(details)) > MAX_DETAILS_BYTES) {
      errors.push({ index, path: 'details', message: `must be at most ${MAX_DETAILS_BYTES} bytes as JSON` });
      return;
    }
    commands.push(toCommand(result.data, details));
  });
  return errors.length > 0 ? fail(errors) : { ok: true, commands };
}

/**
 * Path of the first string (value, or key: then the path of its object) that is not
 * well-formed UTF-16. The audit chain hashes RFC 8785 JSON, which has no encoding for a lone
 * surrogate, so such text is refused here rather than failing the append.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function illFormedString(value: unknown, path: string[]): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path.join('.') : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = illFormedString(item, [...path, String(i)]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key)) return path.join('.');
    const found = illFormedString(item, [...path, key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

function toCommand(m: StatusMessage, details: Record<string, unknown>): ReportStatus {
  const meta = m.meta
    ? {
        ...(m.meta.stage_order != null && { stage_order: m.meta.stage_order }),
        ...(m.meta.expected_cycles != null && { expected_cycles: m.meta.expected_cycles }),
      }
    : null;
  return {
    type: 'ReportStatus',
    data: {
      job_id: m.job_id,
      user_id: m.user_id ?? null,
      message_id: m.message_id ?? null,
      stage: m.stage,
      state: m.state,
      message: m.message ?? null,
      artifact: m.artifact ?? null,
      cycle: m.cycle ?? null,
      progress: m.progress ?? null,
      details,
      ts: new Date(m.ts).toISOString(),
      meta,
    },
  };
}

function pathOf(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
  return path.join('.');
}

function fail(errors: FieldError[]): ParsedMessages {
  return { ok: false, errors };
}

/** How deep objects and arrays nest in `value` (1 for a flat object), without recursion; stops once past the bound. */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_DETAILS_DEPTH) return deepest;
    for (const child of Object.values(current)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return deepest;
}
