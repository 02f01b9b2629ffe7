import type { TraceContext } from '../transports/liveFeed/types.ts';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_TRACESTATE = 512;

/**
 * Reads W3C trace context. An invalid `traceparent` is ignored, as the W3C spec asks,
 * rather than failing the request; `tracestate` only travels with a valid `traceparent`.
 */
export function parseTraceContext(
  traceparent: string | undefined,
  tracestate: string | undefined,
): TraceContext | undefined {
  if (!traceparent) return undefined;
  const value = traceparent.trim().toLowerCase();
  const match = TRACEPARENT.exec(value);
  if (!match) return undefined;
  const [, version, traceId, parentId, , rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return undefined;
  const state = tracestate?.trim();
  return state && state.length <= MAX_TRACESTATE ? { traceparent: value, tracestate: state } : { traceparent: value };
}
