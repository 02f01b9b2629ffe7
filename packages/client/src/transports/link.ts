import type { TransportName } from '../connectionState.ts';
import type { StatuscastError } from '../errors.ts';

/** A message from the service: its target (SignalR) or event name (SSE), the parsed argument and the SSE id. */
export type LinkMessage = (name: string, data: unknown, id: string | undefined) => void;

/** One open connection to the service (a SignalR connection or an SSE stream). */
export interface Link {
  readonly transport: TransportName;
  /**
   * Settles once the link is over: `null` when `stop()` ended it, the error otherwise
   * (including a clean end by the server, which is a reason to reconnect).
   */
  readonly ended: Promise<StatuscastError | null>;
  stop(): void;
}
