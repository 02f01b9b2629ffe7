import type { TransportKind } from './hubDefinition.ts';

/** How an invocation ended, for the invocations metric. */
export type InvocationOutcome = 'ok' | 'error' | 'unknown-method' | 'rate-limited' | 'unsupported';

/**
 * Observations the hub server reports; the caller maps them onto its own metrics so that
 * this layer stays free of any naming scheme. Label values are bounded: `method` is a
 * registered method name or `unknown`, never a client-chosen string.
 */
export interface HubServerMetrics {
  connectionOpened(transport: TransportKind): void;
  connectionClosed(transport: TransportKind): void;
  messageSent(transport: TransportKind, target: string): void;
  /** A consumer could not keep up (or its stateful buffer overflowed) and was closed. */
  sendBufferDrop(transport: TransportKind): void;
  invocation(method: string, outcome: InvocationOutcome): void;
}

export const NO_METRICS: HubServerMetrics = {
  connectionOpened() {},
  connectionClosed() {},
  messageSent() {},
  sendBufferDrop() {},
  invocation() {},
};
